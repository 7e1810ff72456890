{{/*
Names
*/}}
{{- define "slrt.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* "<release>-<chart>", or the release name when it already contains the chart name. */}}
{{- define "slrt.fullname" -}}
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

{{- define "slrt.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The services. */}}
{{- define "slrt.serviceNames" -}}
intake registry notifier routing dashboard console
{{- end }}

{{/* The services users reach from outside the cluster (through the Ingress). */}}
{{- define "slrt.publicServiceNames" -}}
intake dashboard console
{{- end }}

{{/* Name of one component's objects: (dict "root" $ "name" "intake") */}}
{{- define "slrt.componentName" -}}
{{- printf "%s-%s" (include "slrt.fullname" .root | trunc 50 | trimSuffix "-") .name }}
{{- end }}

{{/*
Labels: (dict "root" $ "component" "intake"). Selector labels are the stable subset.
*/}}
{{- define "slrt.selectorLabels" -}}
app.kubernetes.io/name: {{ include "slrt.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "slrt.labels" -}}
helm.sh/chart: {{ include "slrt.chart" .root }}
{{ include "slrt.selectorLabels" . }}
app.kubernetes.io/version: {{ include "slrt.versionLabel" .root | quote }}
app.kubernetes.io/part-of: slrt
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
{{- with .root.Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/*
The app.kubernetes.io/version label: the image tag (or appVersion) without any "@sha256:…" digest
(skaffold passes "TAG@DIGEST"), every character a label value may not hold replaced by "-", at
most 63 characters, starting and ending alphanumeric.
*/}}
{{- define "slrt.versionLabel" -}}
{{- $version := .Values.image.tag | default .Chart.AppVersion | toString }}
{{- $version = regexReplaceAll "@.*$" $version "" }}
{{- $version = regexReplaceAll "[^-A-Za-z0-9_.]" $version "-" }}
{{- $version | trunc 63 | trimAll "-_." }}
{{- end }}

{{/* routing's Temporal worker deployment: temporal.workerVersioning.deploymentName, else
"<fullname>-routing" ("." separates the deployment from the build id, so it becomes "-"). */}}
{{- define "slrt.workerDeploymentName" -}}
{{- $name := .Values.temporal.workerVersioning.deploymentName | default (include "slrt.componentName" (dict "root" . "name" "routing")) }}
{{- $name | replace "." "-" }}
{{- end }}

{{/* routing's build id: temporal.workerVersioning.buildId, else the image digest, else the tag
(or appVersion): the identity of the code the pods run. */}}
{{- define "slrt.workerBuildId" -}}
{{- .Values.temporal.workerVersioning.buildId | default .Values.image.digest | default .Values.image.tag | default .Chart.AppVersion | toString | trunc 255 }}
{{- end }}

{{/* Selects every pod of this release (any component). */}}
{{- define "slrt.releaseSelector" -}}
app.kubernetes.io/name: {{ include "slrt.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* The image reference: repository@digest, or repository:tag. */}}
{{- define "slrt.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) }}
{{- end }}
{{- end }}

{{/* (dict "root" $ "name" "intake") */}}
{{- define "slrt.serviceAccountName" -}}
{{- $sa := (index .root.Values.services .name).serviceAccount }}
{{- if $sa.create }}
{{- default (include "slrt.componentName" .) $sa.name }}
{{- else }}
{{- default "default" $sa.name }}
{{- end }}
{{- end }}

{{- define "slrt.hooksServiceAccountName" -}}
{{- if .Values.hooksServiceAccount.create }}
{{- default (printf "%s-hooks" (include "slrt.fullname" .)) .Values.hooksServiceAccount.name }}
{{- else }}
{{- default "default" .Values.hooksServiceAccount.name }}
{{- end }}
{{- end }}

{{/* Hook Jobs run when any of them is enabled. */}}
{{- define "slrt.setupJobEnabled" -}}
{{- if or .Values.kafka.topics.create .Values.temporal.setup.registerNamespace }}true{{- end }}
{{- end }}

{{- define "slrt.hooksEnabled" -}}
{{- if or .Values.migrations.enabled (include "slrt.setupJobEnabled" .) }}true{{- end }}
{{- end }}

{{/*
Settings that are not secret (SLRT_*), as a YAML map: the ConfigMap of the services and the
inline environment of the hook Jobs (which run before the ConfigMap exists).
*/}}
{{- define "slrt.config" -}}
{{- $v := .Values }}
{{- if not (or $v.postgres.dsn $v.postgres.existingSecret) }}
{{- fail "postgres.dsn or postgres.existingSecret is required: where the SLRT database is" }}
{{- end }}
SLRT_KAFKA_BOOTSTRAP: {{ required "kafka.bootstrap is required: the Kafka bootstrap servers (host:port[,host:port])" $v.kafka.bootstrap | quote }}
SLRT_KAFKA_SECURITY_PROTOCOL: {{ $v.kafka.securityProtocol | quote }}
{{- with $v.kafka.consumerGroupPrefix }}
SLRT_KAFKA_CONSUMER_GROUP_PREFIX: {{ . | quote }}
{{- end }}
{{- with $v.kafka.sasl.mechanism }}
SLRT_KAFKA_SASL_MECHANISM: {{ . | quote }}
{{- end }}
{{- if and $v.kafka.sasl.username (not (and $v.kafka.sasl.existingSecret $v.kafka.sasl.existingSecretUsernameKey)) }}
SLRT_KAFKA_SASL_USERNAME: {{ $v.kafka.sasl.username | quote }}
{{- end }}
{{- if or $v.kafka.tls.caCert $v.kafka.tls.existingSecret }}
SLRT_KAFKA_SSL_CAFILE: "/etc/slrt/kafka-ca/ca.crt"
{{- end }}
{{- if $v.kafka.tls.clientCert.existingSecret }}
SLRT_KAFKA_SSL_CERTFILE: "/etc/slrt/kafka-client/tls.crt"
SLRT_KAFKA_SSL_KEYFILE: "/etc/slrt/kafka-client/tls.key"
{{- end }}
SLRT_TEMPORAL_ADDRESS: {{ required "temporal.address is required: the Temporal frontend (host:port)" $v.temporal.address | quote }}
SLRT_TEMPORAL_NAMESPACE: {{ $v.temporal.namespace | quote }}
SLRT_TEMPORAL_TASK_QUEUE: {{ $v.temporal.taskQueue | quote }}
{{- if $v.temporal.tls.enabled }}
SLRT_TEMPORAL_TLS_CERT: "/etc/slrt/temporal-tls/tls.crt"
SLRT_TEMPORAL_TLS_KEY: "/etc/slrt/temporal-tls/tls.key"
{{- if include "slrt.temporalCa" . }}
SLRT_TEMPORAL_TLS_CA: "/etc/slrt/temporal-tls/ca.crt"
{{- end }}
{{- end }}
{{- with $v.postgres.tls.mode }}
PGSSLMODE: {{ . | quote }}
{{- end }}
{{- if $v.postgres.tls.ca.existingSecret }}
PGSSLROOTCERT: "/etc/slrt/postgres-ca/ca.crt"
{{- end }}
{{- if $v.postgres.tls.clientCert.existingSecret }}
PGSSLCERT: "/etc/slrt/postgres-client/tls.crt"
PGSSLKEY: "/etc/slrt/postgres-client/tls.key"
{{- end }}
SLRT_POSTGRES_POOL_MIN: {{ $v.postgres.poolMin | int | quote }}
SLRT_POSTGRES_POOL_MAX: {{ $v.postgres.poolMax | int | quote }}
{{- with $v.telemetry.otlpEndpoint }}
SLRT_OTLP_ENDPOINT: {{ . | quote }}
{{- end }}
SLRT_LOG_LEVEL: {{ $v.telemetry.logLevel | quote }}
SLRT_LOG_JSON: {{ $v.telemetry.logJson | toString | quote }}
{{- if not $v.auth.existingSecret }}
{{- with $v.auth.issuer }}
SLRT_AUTH_ISSUER: {{ . | quote }}
{{- end }}
{{- with $v.auth.audience }}
SLRT_AUTH_AUDIENCE: {{ . | quote }}
{{- end }}
{{- with $v.auth.jwksUrl }}
SLRT_AUTH_JWKS_URL: {{ . | quote }}
{{- end }}
{{- end }}
SLRT_AUTH_DIRECTORY: {{ $v.auth.directory | default false | toString | quote }}
{{- end }}

{{/* Whether a CA for the Temporal frontend is mounted (temporal-tls/ca.crt). */}}
{{- define "slrt.temporalCa" -}}
{{- $tls := .Values.temporal.tls }}
{{- if and $tls.enabled (or (and $tls.existingSecret $tls.existingSecretCaKey) (and (not $tls.existingSecret) $tls.caCert)) }}true{{- end }}
{{- end }}

{{/* Whether the services need egress to the OIDC issuer. */}}
{{- define "slrt.authConfigured" -}}
{{- if or .Values.auth.jwksUrl .Values.auth.existingSecret }}true{{- end }}
{{- end }}

{{/*
Secret values given inline in values (base64, Secret `data`). Empty when everything comes from
existing Secrets.
*/}}
{{- define "slrt.inlineSecretData" -}}
{{- $v := .Values }}
{{- if and $v.postgres.dsn (not $v.postgres.existingSecret) }}
postgres-dsn: {{ $v.postgres.dsn | b64enc | quote }}
{{- end }}
{{- if and $v.kafka.sasl.password (not $v.kafka.sasl.existingSecret) }}
kafka-sasl-password: {{ $v.kafka.sasl.password | b64enc | quote }}
{{- end }}
{{- if and $v.kafka.tls.caCert (not $v.kafka.tls.existingSecret) }}
kafka-ca.crt: {{ $v.kafka.tls.caCert | b64enc | quote }}
{{- end }}
{{- if and $v.attachments.keys.value (not $v.attachments.keys.existingSecret) }}
attachment-keys: {{ $v.attachments.keys.value | b64enc | quote }}
{{- end }}
{{- if and $v.services.console.enabled $v.consoleSessionKey.value (not $v.consoleSessionKey.existingSecret) }}
console-session-key: {{ $v.consoleSessionKey.value | b64enc | quote }}
{{- end }}
{{- if and $v.temporal.payloadKeys.keys (not $v.temporal.payloadKeys.existingSecret) }}
temporal-payload-keys: {{ $v.temporal.payloadKeys.keys | b64enc | quote }}
{{- end }}
{{- if and $v.temporal.tls.enabled (not $v.temporal.tls.existingSecret) }}
temporal-tls.crt: {{ required "temporal.tls.cert (or temporal.tls.existingSecret) is required when temporal.tls.enabled" $v.temporal.tls.cert | b64enc | quote }}
temporal-tls.key: {{ required "temporal.tls.key (or temporal.tls.existingSecret) is required when temporal.tls.enabled" $v.temporal.tls.key | b64enc | quote }}
{{- with $v.temporal.tls.caCert }}
temporal-ca.crt: {{ . | b64enc | quote }}
{{- end }}
{{- end }}
{{- end }}

{{/* The Secret of secretRefs to mount, or nothing. */}}
{{- define "slrt.secretRefsName" -}}
{{- if .Values.secretRefs.existingSecret }}
{{- .Values.secretRefs.existingSecret }}
{{- else if .Values.secretRefs.values }}
{{- printf "%s-secret-refs" (include "slrt.fullname" .) }}
{{- end }}
{{- end }}

{{/*
A service's own settings (SLRT_<SERVICE>_*) from services.<name>.settings (camelCase keys), plus
the public URLs derived from the Ingress: (dict "root" $ "name" "intake")
*/}}
{{- define "slrt.serviceSettings" -}}
{{- $svc := index .root.Values.services .name }}
{{- $settings := deepCopy ($svc.settings | default dict) }}
{{- $ingress := .root.Values.ingress }}
{{- $scheme := ternary "https" "http" (not (empty $ingress.tls)) }}
{{- if and $ingress.enabled $ingress.hosts }}
{{- $url := printf "%s://%s" $scheme (first $ingress.hosts) }}
{{- if eq .name "intake" }}
{{- $_ := set $settings "publicBaseUrl" ($settings.publicBaseUrl | default $url) }}
{{- else if has .name (list "notifier" "dashboard") }}
{{- $_ := set $settings "intakePublicUrl" ($settings.intakePublicUrl | default $url) }}
{{- end }}
{{- end }}
{{- if and (has .name (list "intake" "dashboard")) $ingress.trustedProxies }}
{{- $_ := set $settings "trustedProxies" ($settings.trustedProxies | default $ingress.trustedProxies) }}
{{- end }}
{{- if and (has .name (list "notifier" "registry")) .root.Values.services.intake.enabled }}
{{- /* Household contact and complainant references are redeemed inside the cluster, never
through the Ingress. */}}
{{- $intake := printf "http://%s.%s.svc:%d" (include "slrt.componentName" (dict "root" .root "name" "intake")) .root.Release.Namespace (int .root.Values.services.intake.port) }}
{{- $_ := set $settings "intakeUrl" ($settings.intakeUrl | default $intake) }}
{{- end }}
{{- if eq .name "dashboard" }}
{{- if and $ingress.enabled $ingress.dashboardHosts }}
{{- $_ := set $settings "publicUrl" ($settings.publicUrl | default (printf "%s://%s" $scheme (first $ingress.dashboardHosts))) }}
{{- end }}
{{- if .root.Values.services.registry.enabled }}
{{- $registry := printf "http://%s.%s.svc:%d" (include "slrt.componentName" (dict "root" .root "name" "registry")) .root.Release.Namespace (int .root.Values.services.registry.port) }}
{{- $_ := set $settings "registryUrl" ($settings.registryUrl | default $registry) }}
{{- end }}
{{- end }}
{{- if eq .name "console" }}
{{- /* The staff console calls the public APIs inside the cluster; browsers reach it on its
own hosts (the OIDC redirect URI is built on publicUrl). */}}
{{- if and $ingress.enabled $ingress.consoleHosts }}
{{- $_ := set $settings "publicUrl" ($settings.publicUrl | default (printf "%s://%s" $scheme (first $ingress.consoleHosts))) }}
{{- end }}
{{- range $peer := list "intake" "registry" }}
{{- if (index $.root.Values.services $peer).enabled }}
{{- $url := printf "http://%s.%s.svc:%d" (include "slrt.componentName" (dict "root" $.root "name" $peer)) $.root.Release.Namespace (int (index $.root.Values.services $peer).port) }}
{{- $_ := set $settings (printf "%sUrl" $peer) (index $settings (printf "%sUrl" $peer) | default $url) }}
{{- end }}
{{- end }}
{{- end }}
{{- range $key, $value := $settings }}
- name: {{ printf "SLRT_%s_%s" (upper $.name) ($key | snakecase | upper) }}
  value: {{ ternary $value (toJson $value) (kindIs "string" $value) | quote }}
{{- end }}
{{- end }}

{{/*
Environment from Secrets: (dict "root" $ "secret" <name of the Secret with inline values>
"auth" <bool: add the SLRT_AUTH_* settings when they come from a Secret>)
*/}}
{{- define "slrt.secretEnv" -}}
{{- $v := .root.Values }}
- name: SLRT_POSTGRES_DSN
  valueFrom:
    secretKeyRef:
      {{- if $v.postgres.existingSecret }}
      name: {{ $v.postgres.existingSecret }}
      key: {{ $v.postgres.existingSecretKey }}
      {{- else }}
      name: {{ .secret }}
      key: postgres-dsn
      {{- end }}
{{- if $v.kafka.sasl.existingSecret }}
- name: SLRT_KAFKA_SASL_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ $v.kafka.sasl.existingSecret }}
      key: {{ $v.kafka.sasl.existingSecretPasswordKey }}
{{- if $v.kafka.sasl.existingSecretUsernameKey }}
- name: SLRT_KAFKA_SASL_USERNAME
  valueFrom:
    secretKeyRef:
      name: {{ $v.kafka.sasl.existingSecret }}
      key: {{ $v.kafka.sasl.existingSecretUsernameKey }}
{{- end }}
{{- else if $v.kafka.sasl.password }}
- name: SLRT_KAFKA_SASL_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ .secret }}
      key: kafka-sasl-password
{{- end }}
{{- if and .auth $v.auth.existingSecret }}
- name: SLRT_AUTH_ISSUER
  valueFrom:
    secretKeyRef:
      name: {{ $v.auth.existingSecret }}
      key: {{ $v.auth.existingSecretKeys.issuer }}
- name: SLRT_AUTH_AUDIENCE
  valueFrom:
    secretKeyRef:
      name: {{ $v.auth.existingSecret }}
      key: {{ $v.auth.existingSecretKeys.audience }}
- name: SLRT_AUTH_JWKS_URL
  valueFrom:
    secretKeyRef:
      name: {{ $v.auth.existingSecret }}
      key: {{ $v.auth.existingSecretKeys.jwksUrl }}
{{- end }}
{{- end }}

{{/* Certificate volumes: (dict "root" $ "secret" <name of the Secret with inline values>) */}}
{{- define "slrt.tlsVolumes" -}}
{{- $v := .root.Values }}
{{- if $v.kafka.tls.existingSecret }}
- name: kafka-ca
  secret:
    secretName: {{ $v.kafka.tls.existingSecret }}
    defaultMode: 0440
    items:
      - key: {{ $v.kafka.tls.existingSecretKey }}
        path: ca.crt
{{- else if $v.kafka.tls.caCert }}
- name: kafka-ca
  secret:
    secretName: {{ .secret }}
    defaultMode: 0440
    items:
      - key: kafka-ca.crt
        path: ca.crt
{{- end }}
{{- if $v.temporal.tls.enabled }}
- name: temporal-tls
  secret:
    defaultMode: 0440
    {{- if $v.temporal.tls.existingSecret }}
    secretName: {{ $v.temporal.tls.existingSecret }}
    items:
      - key: {{ $v.temporal.tls.existingSecretCertKey }}
        path: tls.crt
      - key: {{ $v.temporal.tls.existingSecretKeyKey }}
        path: tls.key
      {{- with $v.temporal.tls.existingSecretCaKey }}
      - key: {{ . }}
        path: ca.crt
      {{- end }}
    {{- else }}
    secretName: {{ .secret }}
    items:
      - key: temporal-tls.crt
        path: tls.crt
      - key: temporal-tls.key
        path: tls.key
      {{- if $v.temporal.tls.caCert }}
      - key: temporal-ca.crt
        path: ca.crt
      {{- end }}
    {{- end }}
{{- end }}
{{- with $v.kafka.tls.clientCert.existingSecret }}
- name: kafka-client
  secret:
    secretName: {{ . }}
    defaultMode: 0440
    items:
      - key: {{ $v.kafka.tls.clientCert.certKey }}
        path: tls.crt
      - key: {{ $v.kafka.tls.clientCert.keyKey }}
        path: tls.key
{{- end }}
{{- with $v.postgres.tls.ca.existingSecret }}
- name: postgres-ca
  secret:
    secretName: {{ . }}
    defaultMode: 0440
    items:
      - key: {{ $v.postgres.tls.ca.key }}
        path: ca.crt
{{- end }}
{{- with $v.postgres.tls.clientCert.existingSecret }}
- name: postgres-client
  secret:
    secretName: {{ . }}
    defaultMode: 0440
    items:
      - key: {{ $v.postgres.tls.clientCert.certKey }}
        path: tls.crt
      - key: {{ $v.postgres.tls.clientCert.keyKey }}
        path: tls.key
{{- end }}
{{- with $v.extraVolumes }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{- define "slrt.tlsVolumeMounts" -}}
{{- if or .Values.kafka.tls.existingSecret .Values.kafka.tls.caCert }}
- name: kafka-ca
  mountPath: /etc/slrt/kafka-ca
  readOnly: true
{{- end }}
{{- if .Values.temporal.tls.enabled }}
- name: temporal-tls
  mountPath: /etc/slrt/temporal-tls
  readOnly: true
{{- end }}
{{- if .Values.kafka.tls.clientCert.existingSecret }}
- name: kafka-client
  mountPath: /etc/slrt/kafka-client
  readOnly: true
{{- end }}
{{- if .Values.postgres.tls.ca.existingSecret }}
- name: postgres-ca
  mountPath: /etc/slrt/postgres-ca
  readOnly: true
{{- end }}
{{- if .Values.postgres.tls.clientCert.existingSecret }}
- name: postgres-client
  mountPath: /etc/slrt/postgres-client
  readOnly: true
{{- end }}
{{- with .Values.extraVolumeMounts }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/*
Security contexts. With platformAssignsUserIds (OpenShift's restricted-v2 SCC assigns each
namespace a UID range and an fsGroup) the fixed runAsUser, runAsGroup and fsGroup are left out.
*/}}
{{- define "slrt.podSecurityContext" -}}
{{- if .Values.platformAssignsUserIds }}
{{- toYaml (omit .Values.podSecurityContext "runAsUser" "runAsGroup" "fsGroup") }}
{{- else }}
{{- toYaml .Values.podSecurityContext }}
{{- end }}
{{- end }}

{{- define "slrt.containerSecurityContext" -}}
{{- if .Values.platformAssignsUserIds }}
{{- toYaml (omit .Values.containerSecurityContext "runAsUser" "runAsGroup") }}
{{- else }}
{{- toYaml .Values.containerSecurityContext }}
{{- end }}
{{- end }}

{{/* The writable /tmp of every container. */}}
{{- define "slrt.tmpVolume" -}}
- name: tmp
  emptyDir:
    sizeLimit: {{ .Values.tmpVolume.sizeLimit }}
{{- end }}

{{- define "slrt.tmpVolumeMount" -}}
- name: tmp
  mountPath: /tmp
{{- end }}

{{/*
A hook object's annotations: (dict "hooks" "pre-install,pre-upgrade" "weight" "-10"
"policy" "before-hook-creation")
*/}}
{{- define "slrt.hookAnnotations" -}}
helm.sh/hook: {{ .hooks }}
helm.sh/hook-weight: {{ .weight | quote }}
helm.sh/hook-delete-policy: {{ .policy }}
{{- end }}

{{/*
NetworkPolicy egress rules to one target: (dict "target" .Values.networkPolicy.kafka).
Empty `to` = any address, on the given ports only.
*/}}
{{- define "slrt.egressRule" -}}
{{- if .target.to }}
- to:
    {{- toYaml .target.to | nindent 4 }}
  ports:
    {{- toYaml .target.ports | nindent 4 }}
{{- else }}
- ports:
    {{- toYaml .target.ports | nindent 4 }}
{{- end }}
{{- end }}

{{/* Egress to this release's own pods (service to service HTTP). */}}
{{- define "slrt.egressToRelease" -}}
- to:
    - podSelector:
        matchLabels:
          {{- include "slrt.releaseSelector" . | nindent 10 }}
{{- end }}

{{/* Inline environment of the hook Jobs: the ConfigMap's settings, then the Secrets'. */}}
{{- define "slrt.hookEnv" -}}
{{- range $key, $value := (include "slrt.config" . | fromYaml) }}
- name: {{ $key }}
  value: {{ $value | toString | quote }}
{{- end }}
{{ include "slrt.secretEnv" (dict "root" . "secret" (printf "%s-hooks" (include "slrt.fullname" .)) "auth" false) | trim }}
{{- with .Values.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* Pod-level settings shared by the hook Jobs and the test pod. */}}
{{- define "slrt.hookPodSpec" -}}
serviceAccountName: {{ include "slrt.hooksServiceAccountName" . }}
automountServiceAccountToken: false
enableServiceLinks: false
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
securityContext:
  {{- include "slrt.podSecurityContext" . | nindent 2 }}
{{- with .Values.hookPods.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.hookPods.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.hookPods.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}

{{/* "true" when attachments are on (a key ring is given), else empty. */}}
{{- define "slrt.attachmentsOn" -}}
{{- if or .Values.attachments.keys.value .Values.attachments.keys.existingSecret }}true{{- end }}
{{- end }}

{{/* The attachment settings and secrets of intake (complaints) and the registry (pre-list and
change-proposal evidence): env entries; dict "root" and "prefix" (SLRT_INTAKE_ …). */}}
{{- define "slrt.attachmentEnv" -}}
{{- $p := .prefix }}
{{- $root := .root }}
{{- $a := .root.Values.attachments }}
- name: {{ $p }}ATTACHMENT_STORE
  value: {{ $a.store | quote }}
- name: {{ $p }}ATTACHMENT_MAX_BYTES
  value: {{ $a.maxBytes | int | quote }}
- name: {{ $p }}ATTACHMENT_MAX_COUNT
  value: {{ $a.maxCount | int | quote }}
- name: {{ $p }}ATTACHMENT_LINK_SECONDS
  value: {{ $a.linkSeconds | int | quote }}
- name: SLRT_SECRET_ATTACHMENT_KEYS
  valueFrom:
    secretKeyRef:
      name: {{ $a.keys.existingSecret | default (include "slrt.fullname" $root) }}
      key: {{ ternary $a.keys.existingSecretKey "attachment-keys" (not (empty $a.keys.existingSecret)) }}
{{- if eq $a.store "s3" }}
- name: {{ $p }}ATTACHMENT_S3_ENDPOINT
  value: {{ required "attachments.s3.endpoint is required for the s3 store" $a.s3.endpoint | quote }}
{{- with $a.s3.publicEndpoint }}
- name: {{ $p }}ATTACHMENT_S3_PUBLIC_ENDPOINT
  value: {{ . | quote }}
{{- end }}
- name: {{ $p }}ATTACHMENT_S3_BUCKET
  value: {{ $a.s3.bucket | quote }}
- name: {{ $p }}ATTACHMENT_S3_REGION
  value: {{ $a.s3.region | quote }}
- name: SLRT_SECRET_ATTACHMENT_S3_CREDENTIALS
  valueFrom:
    secretKeyRef:
      name: {{ required "attachments.s3.existingSecret (the store's access key id and secret key) is required for the s3 store" $a.s3.existingSecret }}
      key: {{ $a.s3.existingSecretKey }}
{{- else }}
{{- $_ := required "attachments.local.existingClaim is required for the local store" $a.local.existingClaim }}
- name: {{ $p }}ATTACHMENT_DIR
  value: /var/lib/slrt/attachments
{{- end }}
{{- with $a.clamdAddress }}
- name: {{ $p }}CLAMD_ADDRESS
  value: {{ . | quote }}
{{- end }}
{{- end }}
