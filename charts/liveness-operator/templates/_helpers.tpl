{{/* Chart name, truncated to a DNS label. */}}
{{- define "liveness-operator.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Fully qualified name: the release name, plus the chart name unless it already holds it. */}}
{{- define "liveness-operator.fullname" -}}
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

{{- define "liveness-operator.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels of every object. Not app.kubernetes.io/managed-by=liveness-operator: that one marks the objects the operator owns. */}}
{{- define "liveness-operator.labels" -}}
helm.sh/chart: {{ include "liveness-operator.chart" . }}
{{ include "liveness-operator.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "liveness-operator.selectorLabels" -}}
app.kubernetes.io/name: {{ include "liveness-operator.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "liveness-operator.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "liveness-operator.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "liveness-operator.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{/* The endpoint (liveness-api) image: the operator image unless overridden. */}}
{{- define "liveness-operator.endpointImage" -}}
{{- $repository := default .Values.image.repository .Values.endpointImage.repository }}
{{- $tag := default (default .Chart.AppVersion .Values.image.tag) .Values.endpointImage.tag }}
{{- printf "%s:%s" $repository $tag }}
{{- end }}

{{- define "liveness-operator.leaseName" -}}
{{- default (printf "%s-leader" (include "liveness-operator.fullname" .)) .Values.leaderElection.leaseName | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The OIDC provider without scheme; rendering fails without one. */}}
{{- define "liveness-operator.oidcProvider" -}}
{{- $provider := required "aws.oidcProvider is required: set it to your cluster's IAM OIDC provider without https://, e.g. --set aws.oidcProvider=oidc.eks.us-east-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B716D3041E (aws eks describe-cluster --name <cluster> --query cluster.identity.oidc.issuer). The endpoint's backend role trusts its ServiceAccount through it (IRSA)." .Values.aws.oidcProvider }}
{{- $provider | trimPrefix "https://" | trimSuffix "/" }}
{{- end }}

{{/* The RBAC scope (cluster or namespaced). A namespaced operator has permissions only
in the namespaces it watches, so it needs them listed; rendering fails without. */}}
{{- define "liveness-operator.rbacScope" -}}
{{- $scope := .Values.rbac.scope | default "cluster" }}
{{- if and (eq $scope "namespaced") (not .Values.watchNamespaces) }}
{{- fail "rbac.scope=namespaced needs watchNamespaces: a namespaced operator gets Roles in the namespaces it watches only, so it cannot watch all namespaces. List them, e.g. --set watchNamespaces={web,kyc}, or use rbac.scope=cluster." }}
{{- end }}
{{- $scope }}
{{- end }}

{{/* What the operator does, and nothing more: reconcile LivenessApps (spec read, finalizer
and status written), server-side apply the endpoint's objects (owned by the LivenessApp,
so garbage collection removes them) and publish Events. All of it is namespaced: the same
rules make the ClusterRole (rbac.scope=cluster) or each watched namespace's Role
(rbac.scope=namespaced). */}}
{{- define "liveness-operator.operatorRules" -}}
- apiGroups: ["faceliveness.dev"]
  resources: ["livenessapps"]
  verbs: ["get", "list", "watch", "patch", "update"]
- apiGroups: ["faceliveness.dev"]
  resources: ["livenessapps/status"]
  verbs: ["get", "patch", "update"]
# Needed to set blockOwnerDeletion on the owner references of the endpoint's objects.
- apiGroups: ["faceliveness.dev"]
  resources: ["livenessapps/finalizers"]
  verbs: ["update"]
- apiGroups: ["apps"]
  resources: ["deployments"]
  verbs: ["get", "list", "watch", "create", "patch", "update", "delete"]
- apiGroups: [""]
  resources: ["services", "configmaps", "serviceaccounts"]
  verbs: ["get", "list", "watch", "create", "patch", "update", "delete"]
# Each app's key Secret (session binding, verdict signing), by name: no list or watch.
- apiGroups: [""]
  resources: ["secrets"]
  verbs: ["get", "create", "patch", "update", "delete"]
# spec.endpoint.expose: the app's own Ingress (watched) or HTTPRoute (checked at resync).
- apiGroups: ["networking.k8s.io"]
  resources: ["ingresses"]
  verbs: ["get", "list", "watch", "create", "patch", "update", "delete"]
- apiGroups: ["gateway.networking.k8s.io"]
  resources: ["httproutes"]
  verbs: ["get", "create", "patch", "update", "delete"]
# Why an endpoint is not available (an image that cannot be pulled, a crash loop): its
# pods are listed, read only, while its Deployment is short of replicas.
- apiGroups: [""]
  resources: ["pods"]
  verbs: ["list"]
- apiGroups: ["events.k8s.io"]
  resources: ["events"]
  verbs: ["create", "patch"]
- apiGroups: [""]
  resources: ["events"]
  verbs: ["create", "patch"]
{{- end }}
