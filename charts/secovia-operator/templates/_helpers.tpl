{{/* Labels of every object of the operator; the selector uses only the stable two. */}}
{{- define "secovia.selectorLabels" -}}
app.kubernetes.io/name: secovia-operator
app.kubernetes.io/component: operator
{{- end }}

{{- define "secovia.labels" -}}
{{ include "secovia.selectorLabels" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end }}

{{- define "secovia.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end }}
