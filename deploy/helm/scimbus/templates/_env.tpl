{{/*
What a service's container is given: variables, envFrom, volumes and mounts.
Each takes (dict "ctx" $ "component" "ingress|store|outbound").
*/}}

{{/* Where the configuration file is mounted (SCIMBUS_CONFIG). */}}
{{- define "scimbus.configPath" -}}/etc/scimbus/scimbus.toml{{- end }}

{{/* SCIMBUS_DATABASE_URL, from the chart's Secret or an existing one. */}}
{{- define "scimbus.databaseUrlEnv" -}}
{{- $db := .Values.database }}
- name: SCIMBUS_DATABASE_URL
  valueFrom:
    secretKeyRef:
      {{- if $db.existingSecret.name }}
      name: {{ $db.existingSecret.name }}
      key: {{ $db.existingSecret.key }}
      {{- else }}
      name: {{ include "scimbus.databaseSecretName" . }}
      key: SCIMBUS_DATABASE_URL
      {{- end }}
{{- end }}

{{/* SCIMBUS_PUBLIC_URL when none is set: the Ingress's first host, else the
Service's cluster URL. */}}
{{- define "scimbus.publicUrl" -}}
{{- $ing := .Values.apiIngress }}
{{- if .Values.ingress.publicUrl }}
{{- .Values.ingress.publicUrl }}
{{- else if and $ing.enabled $ing.hosts }}
{{- printf "%s://%s" (ternary "https" "http" (gt (len $ing.tls) 0)) (first $ing.hosts).host }}
{{- else }}
{{- printf "http://%s.%s.svc:%v" (include "scimbus.componentName" (dict "ctx" . "component" "ingress")) .Release.Namespace .Values.ingress.service.port }}
{{- end }}
{{- end }}

{{- define "scimbus.env" -}}
{{- $ := .ctx }}
{{- $c := .component }}
{{- $svc := index $.Values $c }}
- name: SCIMBUS_{{ upper $c }}_ADDR
  value: {{ printf "0.0.0.0:%v" $svc.port | quote }}
{{ include "scimbus.databaseUrlEnv" $ | trim }}
- name: SCIMBUS_NATS_URL
  value: {{ join "," $.Values.nats.urls | quote }}
{{- with $.Values.nats.credentials.existingSecret }}
- name: SCIMBUS_NATS_CREDS_FILE
  value: /etc/scimbus/nats/nats.creds
{{- end }}
{{- with $.Values.nats.userPassword }}
{{- if .existingSecret }}
- name: SCIMBUS_NATS_USER
  valueFrom:
    secretKeyRef:
      name: {{ .existingSecret }}
      key: {{ .userKey }}
- name: SCIMBUS_NATS_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ .existingSecret }}
      key: {{ .passwordKey }}
{{- end }}
{{- end }}
- name: SCIMBUS_BUS_PREFIX
  value: {{ $.Values.busPrefix | quote }}
- name: SCIMBUS_STREAM_REPLICAS
  value: {{ $.Values.nats.streamReplicas | quote }}
- name: SCIMBUS_CONFIG
  value: {{ include "scimbus.configPath" $ }}
- name: SCIMBUS_DRAIN_SECS
  value: {{ $.Values.drainSeconds | quote }}
- name: SCIMBUS_LOG_FORMAT
  value: {{ $.Values.logging.format | quote }}
- name: RUST_LOG
  value: {{ $.Values.logging.level | quote }}
{{- if or (eq $c "ingress") (eq $c "store") }}
- name: SCIMBUS_PARTITIONS
  value: {{ $.Values.partitions | quote }}
{{- end }}
{{- if eq $c "ingress" }}
- name: SCIMBUS_INGRESS_REPLICAS
  value: {{ ternary $svc.autoscaling.minReplicas $svc.replicas $svc.autoscaling.enabled | quote }}
- name: SCIMBUS_PUBLIC_URL
  value: {{ include "scimbus.publicUrl" $ | quote }}
{{- $rr := $.Values.database.readReplica }}
{{- if or $rr.url $rr.existingSecret.name }}
- name: SCIMBUS_DATABASE_READ_URL
  valueFrom:
    secretKeyRef:
      {{- if $rr.existingSecret.name }}
      name: {{ $rr.existingSecret.name }}
      key: {{ $rr.existingSecret.key }}
      {{- else }}
      name: {{ include "scimbus.databaseSecretName" $ }}
      key: SCIMBUS_DATABASE_READ_URL
      {{- end }}
{{- end }}
{{- if $svc.eventsSigningKey.existingSecret }}
- name: SCIMBUS_EVENTS_SIGNING_KEY
  value: file:/etc/scimbus/signing/signing-key.pem
{{- end }}
{{- end }}
{{- if $.Values.otel.endpoint }}
- name: POD_NAME
  valueFrom:
    fieldRef:
      fieldPath: metadata.name
- name: OTEL_EXPORTER_OTLP_ENDPOINT
  value: {{ $.Values.otel.endpoint | quote }}
- name: OTEL_SERVICE_NAME
  value: scimbus-{{ $c }}
{{- $attrs := list (printf "service.namespace=%s" $.Release.Namespace) (printf "k8s.namespace.name=%s" $.Release.Namespace) "k8s.pod.name=$(POD_NAME)" (printf "k8s.deployment.name=%s" (include "scimbus.componentName" .)) }}
{{- range $k, $v := $.Values.otel.resourceAttributes }}
{{- $attrs = append $attrs (printf "%s=%v" $k $v) }}
{{- end }}
- name: OTEL_RESOURCE_ATTRIBUTES
  value: {{ join "," $attrs | quote }}
{{- end }}
{{- range $k, $v := $svc.env }}
- name: {{ $k }}
  value: {{ $v | toString | quote }}
{{- end }}
{{- with $.Values.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* envFrom: the Secret of secrets.env, secrets.existingSecret, extraEnvFrom. */}}
{{- define "scimbus.envFrom" -}}
{{- if .Values.secrets.env }}
- secretRef:
    name: {{ include "scimbus.envSecretName" . }}
{{- end }}
{{- with .Values.secrets.existingSecret }}
- secretRef:
    name: {{ . }}
{{- end }}
{{- with .Values.extraEnvFrom }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{- define "scimbus.volumes" -}}
{{- $ := .ctx }}
- name: config
  configMap:
    name: {{ include "scimbus.fullname" $ }}
    items:
      - key: scimbus.toml
        path: scimbus.toml
- name: tmp
  emptyDir:
    sizeLimit: 64Mi
{{- with $.Values.nats.credentials }}
{{- if .existingSecret }}
- name: nats-credentials
  secret:
    secretName: {{ .existingSecret }}
    defaultMode: 0440
    items:
      - key: {{ .key }}
        path: nats.creds
{{- end }}
{{- end }}
{{- if eq .component "ingress" }}
{{- with $.Values.ingress.eventsSigningKey }}
{{- if .existingSecret }}
- name: events-signing-key
  secret:
    secretName: {{ .existingSecret }}
    defaultMode: 0440
    items:
      - key: {{ .key }}
        path: signing-key.pem
{{- end }}
{{- end }}
{{- end }}
{{- with $.Values.extraVolumes }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{- define "scimbus.volumeMounts" -}}
{{- $ := .ctx }}
- name: config
  mountPath: {{ include "scimbus.configPath" $ }}
  subPath: scimbus.toml
  readOnly: true
- name: tmp
  mountPath: /tmp
{{- if $.Values.nats.credentials.existingSecret }}
- name: nats-credentials
  mountPath: /etc/scimbus/nats
  readOnly: true
{{- end }}
{{- if and (eq .component "ingress") $.Values.ingress.eventsSigningKey.existingSecret }}
- name: events-signing-key
  mountPath: /etc/scimbus/signing
  readOnly: true
{{- end }}
{{- with $.Values.extraVolumeMounts }}
{{ toYaml . }}
{{- end }}
{{- end }}
