{{/* Names and labels shared by the templates. */}}
{{- define "aso.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "aso.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "aso.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "aso.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "aso.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "aso.webhookService" -}}
{{- printf "%s-webhook" (include "aso.fullname" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* The shards: the "shards" value, or one shard made of the top-level values. */}}
{{- define "aso.shards" -}}
{{- $shards := list -}}
{{- if .Values.shards -}}
{{- range .Values.shards -}}
{{- $shards = append $shards (dict "name" (required "every shard needs a name" .name) "targetNamespaces" (default list .targetNamespaces) "labelSelector" (default "" .labelSelector)) -}}
{{- end -}}
{{- else -}}
{{- $shards = append $shards (dict "name" "" "targetNamespaces" .Values.targetNamespaces "labelSelector" .Values.labelSelector) -}}
{{- end -}}
{{- toJson $shards -}}
{{- end -}}

{{/* The CRD files selected by crdPattern, as a JSON list of file paths. */}}
{{- define "aso.crdFiles" -}}
{{- $selected := list -}}
{{- range $path, $_ := .Files.Glob "files/crds/*.yaml" -}}
{{- $crd := $.Files.Get $path | fromYaml -}}
{{- $subject := printf "%s/%s" $crd.spec.group $crd.spec.names.kind -}}
{{- range $pattern := splitList ";" $.Values.crdPattern -}}
{{- $pattern = trim $pattern -}}
{{- if $pattern -}}
{{- if not (contains "/" $pattern) -}}{{- $pattern = printf "%s/*" $pattern -}}{{- end -}}
{{- $regex := printf "^%s$" (replace "*" ".*" (replace "." "\\." $pattern)) -}}
{{- if and (regexMatch $regex $subject) (not (has $path $selected)) -}}
{{- $selected = append $selected $path -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- toJson $selected -}}
{{- end -}}

{{/* The API groups of the selected CRDs, as a JSON list. */}}
{{- define "aso.groups" -}}
{{- $groups := list -}}
{{- range $path := include "aso.crdFiles" . | fromJsonArray -}}
{{- $groups = append $groups ($.Files.Get $path | fromYaml).spec.group -}}
{{- end -}}
{{- toJson ($groups | uniq | sortAlpha) -}}
{{- end -}}
