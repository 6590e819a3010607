{{/* Chart name, truncated to the 63 characters a label value allows. */}}
{{- define "tsms.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Full name of every object: <release>-<chart> unless the release name already contains it. */}}
{{- define "tsms.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "tsms.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "tsms.selectorLabels" -}}
app.kubernetes.io/name: {{ include "tsms.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "tsms.labels" -}}
helm.sh/chart: {{ include "tsms.chart" . }}
{{ include "tsms.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/component: model-server
{{- end }}

{{- define "tsms.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "tsms.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "tsms.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{/* Which model source is in use: "single", "existing" or "config"; fails on none or several. */}}
{{- define "tsms.modelSource" -}}
{{- $sources := list }}
{{- if .Values.singleModel.name }}{{ $sources = append $sources "single" }}{{ end }}
{{- if .Values.existingConfigMap }}{{ $sources = append $sources "existing" }}{{ end }}
{{- if .Values.modelConfig }}{{ $sources = append $sources "config" }}{{ end }}
{{- if ne (len $sources) 1 }}
{{- fail (printf "set exactly one of modelConfig, existingConfigMap, singleModel.name (got: %s); set the others to null or \"\"" (join ", " $sources | default "none")) }}
{{- end }}
{{- if and (eq (first $sources) "single") (not .Values.singleModel.basePath) }}
{{- fail "singleModel.basePath is required with singleModel.name" }}
{{- end }}
{{- first $sources }}
{{- end }}

{{- define "tsms.configMapName" -}}
{{- if .Values.existingConfigMap }}{{ .Values.existingConfigMap }}{{ else }}{{ include "tsms.fullname" . }}-config{{ end }}
{{- end }}

{{/* requests/limits with every quantity quoted; the CPU limit defaults to the CPU request. */}}
{{- define "tsms.resources" -}}
{{- $requests := .Values.resources.requests | default dict }}
{{- $limits := deepCopy (.Values.resources.limits | default dict) }}
{{- if and .Values.cpuLimitFromRequest (hasKey $requests "cpu") (not (hasKey $limits "cpu")) }}
{{- $_ := set $limits "cpu" (get $requests "cpu") }}
{{- end }}
{{- if $requests }}
requests:
{{- range $k, $v := $requests }}
  {{ $k }}: {{ $v | toString | quote }}
{{- end }}
{{- end }}
{{- if $limits }}
limits:
{{- range $k, $v := $limits }}
  {{ $k }}: {{ $v | toString | quote }}
{{- end }}
{{- end }}
{{- end }}
