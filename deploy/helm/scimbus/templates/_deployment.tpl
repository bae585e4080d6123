{{/*
One service's Deployment; call with (dict "ctx" $ "component" "ingress|store|outbound").
*/}}
{{- define "scimbus.deployment" -}}
{{- $ := .ctx }}
{{- $c := .component }}
{{- $svc := index $.Values $c }}
{{- $selector := include "scimbus.componentSelectorLabels" . | fromYaml }}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "scimbus.componentName" . }}
  namespace: {{ $.Release.Namespace }}
  labels:
    {{- include "scimbus.componentLabels" . | nindent 4 }}
spec:
  {{- if not (include "scimbus.autoscaled" .) }}
  replicas: {{ $svc.replicas }}
  {{- end }}
  revisionHistoryLimit: 5
  selector:
    matchLabels:
      {{- include "scimbus.componentSelectorLabels" . | nindent 6 }}
  strategy:
    type: RollingUpdate
    rollingUpdate:
      maxSurge: 25%
      maxUnavailable: 0
  template:
    metadata:
      labels:
        {{- include "scimbus.componentLabels" . | nindent 8 }}
        {{- with $.Values.podLabels }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
      annotations:
        checksum/config: {{ include (print $.Template.BasePath "/configmap.yaml") $ | sha256sum }}
        {{- if $.Values.secrets.env }}
        checksum/secret-env: {{ include (print $.Template.BasePath "/secret-env.yaml") $ | sha256sum }}
        {{- end }}
        {{- if not $.Values.database.existingSecret.name }}
        checksum/secret-database: {{ include (print $.Template.BasePath "/secret-database.yaml") $ | sha256sum }}
        {{- end }}
        {{- with $.Values.podAnnotations }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
    spec:
      serviceAccountName: {{ include "scimbus.serviceAccountName" $ }}
      automountServiceAccountToken: false
      enableServiceLinks: false
      terminationGracePeriodSeconds: {{ $.Values.terminationGracePeriodSeconds }}
      {{- with $.Values.priorityClassName }}
      priorityClassName: {{ . }}
      {{- end }}
      {{- with $.Values.imagePullSecrets }}
      imagePullSecrets:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      securityContext:
        {{- toYaml $.Values.podSecurityContext | nindent 8 }}
      {{- with (default $.Values.nodeSelector $svc.nodeSelector) }}
      nodeSelector:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with (default $.Values.tolerations $svc.tolerations) }}
      tolerations:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with (default $.Values.affinity $svc.affinity) }}
      affinity:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with (default $.Values.topologySpreadConstraints $svc.topologySpreadConstraints) }}
      topologySpreadConstraints:
        {{- range . }}
        {{- $tsc := deepCopy . }}
        {{- if not (hasKey $tsc "labelSelector") }}
        {{- $_ := set $tsc "labelSelector" (dict "matchLabels" $selector) }}
        {{- end }}
        {{- toYaml (list $tsc) | nindent 8 }}
        {{- end }}
      {{- end }}
      containers:
        - name: {{ $c }}
          image: {{ include "scimbus.image" $ | quote }}
          imagePullPolicy: {{ $.Values.image.pullPolicy }}
          command: ["/bin/scimbus-{{ $c }}"]
          ports:
            - name: http
              containerPort: {{ $svc.port }}
              protocol: TCP
          env:
            {{- include "scimbus.env" . | trim | nindent 12 }}
          {{- with (include "scimbus.envFrom" $ | trim) }}
          envFrom:
            {{- . | nindent 12 }}
          {{- end }}
          startupProbe:
            httpGet:
              path: /livez
              port: http
            {{- toYaml $.Values.probes.startup | nindent 12 }}
          livenessProbe:
            httpGet:
              path: /livez
              port: http
            {{- toYaml $.Values.probes.liveness | nindent 12 }}
          readinessProbe:
            httpGet:
              path: /readyz
              port: http
            {{- toYaml $.Values.probes.readiness | nindent 12 }}
          resources:
            {{- toYaml $svc.resources | nindent 12 }}
          securityContext:
            {{- toYaml $.Values.securityContext | nindent 12 }}
          volumeMounts:
            {{- include "scimbus.volumeMounts" . | trim | nindent 12 }}
      volumes:
        {{- include "scimbus.volumes" . | trim | nindent 8 }}
{{- end }}
