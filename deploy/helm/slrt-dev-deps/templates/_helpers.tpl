{{- define "deps.name" -}}
{{- printf "%s-%s" .root.Release.Name .component | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "deps.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .root.Chart.Name .root.Chart.Version }}
{{ include "deps.selectorLabels" . }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/part-of: slrt
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
{{- end }}

{{- define "deps.selectorLabels" -}}
app.kubernetes.io/name: {{ .root.Chart.Name }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{/* A single-replica Deployment and its Service: (dict "root" $ "component" "kafka" "ports" (list …)) */}}
{{- define "deps.service" -}}
apiVersion: v1
kind: Service
metadata:
  name: {{ include "deps.name" . }}
  namespace: {{ .root.Release.Namespace }}
  labels:
    {{- include "deps.labels" . | nindent 4 }}
spec:
  selector:
    {{- include "deps.selectorLabels" . | nindent 4 }}
  ports:
    {{- range .ports }}
    - name: {{ .name }}
      port: {{ .port }}
      targetPort: {{ .name }}
      protocol: TCP
    {{- end }}
{{- end }}
