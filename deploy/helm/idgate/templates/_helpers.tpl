{{/*
Names and labels, and the one Deployment template every idgate pod is rendered from (the counterpart
of deploy/kubernetes/components/idgate-pod), so the topologies' Deployments cannot drift apart.
*/}}

{{- define "idgate.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "idgate.labels" -}}
app.kubernetes.io/name: idgate
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/part-of: idgate
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "idgate.selector" -}}
app.kubernetes.io/name: idgate
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/* The port of a listen address (host:port, [v6]:port). */}}
{{- define "idgate.port" -}}
{{- splitList ":" . | last -}}
{{- end -}}

{{/*
A Deployment. Arguments (a dict): root (the chart context), name, component, issuer and filter (the
roles its pods play), replicas, strategy, resources, configMap, config (the idgate.yaml text), and
policies, data, spread (whether to mount the policies, the SQLite volume and /tmp, and to spread
the pods over nodes).
*/}}
{{- define "idgate.deployment" -}}
{{- $root := .root -}}
{{- $config := fromYaml .config -}}
{{- $filter := $config.filter | default dict -}}
{{- $web := $config.web | default dict -}}
{{- $telemetry := $config.telemetry | default dict -}}
{{- $telemetryPort := include "idgate.port" (required (printf "%s: the config needs telemetry.http (the probes ask it)" .name) $telemetry.http) -}}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .name }}
  labels:
    {{- include "idgate.labels" $root | nindent 4 }}
    app.kubernetes.io/component: {{ .component }}
spec:
  replicas: {{ .replicas }}
  strategy:
    {{- toYaml .strategy | nindent 4 }}
  selector:
    matchLabels:
      {{- include "idgate.selector" $root | nindent 6 }}
      app.kubernetes.io/component: {{ .component }}
  template:
    metadata:
      labels:
        {{- include "idgate.selector" $root | nindent 8 }}
        app.kubernetes.io/component: {{ .component }}
        {{- if .issuer }}
        idgate/issuer: "true"
        {{- end }}
        {{- if .filter }}
        idgate/filter: "true"
        {{- end }}
      annotations:
        prometheus.io/scrape: "true"
        prometheus.io/port: {{ $telemetryPort | quote }}
        prometheus.io/path: /metrics
        # The config is read at start: a change rolls the pods.
        checksum/config: {{ .config | sha256sum }}
    spec:
      serviceAccountName: {{ include "idgate.fullname" $root }}
      automountServiceAccountToken: false
      enableServiceLinks: false
      securityContext:
        {{- toYaml $root.Values.podSecurityContext | nindent 8 }}
      {{- if .spread }}
      topologySpreadConstraints:
        - maxSkew: 1
          topologyKey: kubernetes.io/hostname
          whenUnsatisfiable: ScheduleAnyway
          labelSelector:
            matchLabels:
              {{- include "idgate.selector" $root | nindent 14 }}
              app.kubernetes.io/component: {{ .component }}
      {{- end }}
      containers:
        - name: idgate
          image: {{ printf "%s:%s" $root.Values.image.repository ($root.Values.image.tag | default $root.Chart.AppVersion) }}
          imagePullPolicy: {{ $root.Values.image.pullPolicy }}
          args: [serve, --config, /etc/idgate/config/config.yaml]
          envFrom:
            - secretRef:
                name: {{ $root.Values.existingSecret }}
          securityContext:
            {{- toYaml $root.Values.securityContext | nindent 12 }}
          ports:
            - name: telemetry
              containerPort: {{ $telemetryPort }}
              protocol: TCP
            {{- if $web.http }}
            - name: http
              containerPort: {{ include "idgate.port" $web.http }}
              protocol: TCP
            {{- end }}
            {{- if $filter.grpc }}
            - name: grpc-authz
              containerPort: {{ include "idgate.port" $filter.grpc }}
              protocol: TCP
            {{- end }}
            {{- if $filter.http }}
            - name: http-authz
              containerPort: {{ include "idgate.port" $filter.http }}
              protocol: TCP
            {{- end }}
          # The telemetry listener opens once storage is migrated and the filter's policies are loaded:
          # the startup probe gives that a minute before liveness counts.
          startupProbe:
            httpGet:
              path: /healthz/live
              port: telemetry
            periodSeconds: 2
            failureThreshold: 30
          livenessProbe:
            httpGet:
              path: /healthz/live
              port: telemetry
            periodSeconds: 10
            timeoutSeconds: 2
            failureThreshold: 3
          readinessProbe:
            httpGet:
              path: /healthz/ready
              port: telemetry
            periodSeconds: 5
            timeoutSeconds: 3
            failureThreshold: 2
          resources:
            {{- toYaml .resources | nindent 12 }}
          volumeMounts:
            - name: config
              mountPath: /etc/idgate/config
              readOnly: true
            {{- if .policies }}
            - name: policies
              mountPath: /etc/idgate/policies
              readOnly: true
            {{- end }}
            {{- if .data }}
            - name: data
              mountPath: /var/lib/idgate
            # SQLite's temporary files (large sorts, VACUUM) go to /tmp; the root filesystem is read-only.
            - name: tmp
              mountPath: /tmp
            {{- end }}
      volumes:
        - name: config
          configMap:
            name: {{ .configMap }}
        {{- if .policies }}
        - name: policies
          configMap:
            name: {{ include "idgate.fullname" $root }}-policies
        {{- end }}
        {{- if .data }}
        - name: data
          persistentVolumeClaim:
            claimName: {{ include "idgate.fullname" $root }}-data
        - name: tmp
          emptyDir:
            sizeLimit: 64Mi
        {{- end }}
{{- end -}}
