{{/*
Names and labels.
*/}}

{{/* The chart's name (nameOverride wins). */}}
{{- define "scimbus.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The release's full name: <release>-<name>, or the release alone when it
already holds the name; fullnameOverride wins. Kept to 50 characters so that
"-<component>" suffixes stay within 63. */}}
{{- define "scimbus.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 50 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 50 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 50 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* chart-version, for the helm.sh/chart label. */}}
{{- define "scimbus.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels every object carries. */}}
{{- define "scimbus.labels" -}}
helm.sh/chart: {{ include "scimbus.chart" . }}
{{ include "scimbus.selectorLabels" . }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: scimbus
{{- end }}

{{/* What selects the release's objects. */}}
{{- define "scimbus.selectorLabels" -}}
app.kubernetes.io/name: {{ include "scimbus.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* Labels of one component's objects; call with (dict "ctx" $ "component" "store"). */}}
{{- define "scimbus.componentLabels" -}}
{{ include "scimbus.labels" .ctx }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{/* What selects one component's pods. */}}
{{- define "scimbus.componentSelectorLabels" -}}
{{ include "scimbus.selectorLabels" .ctx }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{/* A component's object name: <fullname>-<component>. */}}
{{- define "scimbus.componentName" -}}
{{- printf "%s-%s" (include "scimbus.fullname" .ctx) .component }}
{{- end }}

{{/* The services' ServiceAccount. */}}
{{- define "scimbus.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "scimbus.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* The image reference: repository@digest, or repository:tag. */}}
{{- define "scimbus.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) }}
{{- end }}
{{- end }}

{{/* The Secret the chart makes of database.url (and readReplica.url). */}}
{{- define "scimbus.databaseSecretName" -}}
{{- printf "%s-database" (include "scimbus.fullname" .) }}
{{- end }}

{{/* The Secret the chart makes of secrets.env. */}}
{{- define "scimbus.envSecretName" -}}
{{- printf "%s-env" (include "scimbus.fullname" .) }}
{{- end }}

{{/* The command stream's name under busPrefix (as the services name it). */}}
{{- define "scimbus.commandStream" -}}
{{- if .Values.busPrefix }}
{{- printf "%s_SCIMBUS_CMD" (.Values.busPrefix | upper | replace "-" "_") }}
{{- else }}
{{- print "SCIMBUS_CMD" }}
{{- end }}
{{- end }}

{{/* Whether a component's replicas are left to an HPA or a ScaledObject. */}}
{{- define "scimbus.autoscaled" -}}
{{- $svc := index .ctx.Values .component }}
{{- if or $svc.autoscaling.enabled (and (hasKey $svc "keda") $svc.keda.enabled) }}true{{ end }}
{{- end }}

{{/* Whether a component gets a KEDA ScaledObject. */}}
{{- define "scimbus.keda" -}}
{{- $svc := index .ctx.Values .component }}
{{- if and (hasKey $svc "keda") $svc.keda.enabled }}true{{ end }}
{{- end }}
