{{/*
Names, labels, images, the merged API server values, and the environment, volumes and
containers every Updraft component shares.
*/}}

{{- define "updraft.labels" -}}
tier: updraft
release: {{ .Release.Name }}
chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | quote }}
heritage: {{ .Release.Service }}
{{- with .Values.labels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* Labels that select one component's Pods: (list $ "scheduler"). */}}
{{- define "updraft.selectorLabels" -}}
tier: updraft
component: {{ index . 1 }}
release: {{ (index . 0).Release.Name }}
{{- end }}

{{- define "updraft.image" -}}
{{- $i := .Values.images.updraft -}}
{{- printf "%s:%s" $i.repository (default .Chart.AppVersion $i.tag) -}}
{{- end }}

{{- define "updraft.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}{{ .Release.Name }}-updraft{{- else -}}default{{- end -}}
{{- end }}

{{- define "updraft.workerServiceAccountName" -}}
{{- if .Values.serviceAccount.create -}}{{ .Release.Name }}-worker{{- else -}}default{{- end -}}
{{- end }}

{{/*
Copies every key of the second dict onto the first, recursing into dicts present in both. Unlike
sprig's merge it also copies false, 0 and "", so `webserver.defaultUser.enabled: false` wins.
*/}}
{{- define "updraft.overlay" -}}
{{- $dst := index . 0 -}}
{{- range $k, $v := index . 1 -}}
{{- if and (kindIs "map" $v) (kindIs "map" (get $dst $k)) -}}
{{- include "updraft.overlay" (list (get $dst $k) $v) -}}
{{- else -}}
{{- $_ := set $dst $k $v -}}
{{- end -}}
{{- end -}}
{{- end }}

{{/* apiServer with the tutorial's webserver keys over it, as JSON: `include … | fromJson`. */}}
{{- define "updraft.apiServer" -}}
{{- $api := deepCopy .Values.apiServer -}}
{{- include "updraft.overlay" (list $api (deepCopy .Values.webserver)) -}}
{{- toJson $api -}}
{{- end }}

{{- define "updraft.apiServiceName" -}}{{ .Release.Name }}-api-server{{- end }}

{{- define "updraft.metadataSecretName" -}}
{{- default (printf "%s-metadata" .Release.Name) .Values.data.metadataSecretName -}}
{{- end }}
{{- define "updraft.apiSecretKeySecretName" -}}
{{- default (printf "%s-api-secret-key" .Release.Name) .Values.apiSecretKeySecretName -}}
{{- end }}
{{- define "updraft.fernetKeySecretName" -}}
{{- default (printf "%s-fernet-key" .Release.Name) .Values.fernetKeySecretName -}}
{{- end }}
{{- define "updraft.defaultUserSecretName" -}}
{{- $api := include "updraft.apiServer" . | fromJson -}}
{{- default (printf "%s-default-user" .Release.Name) $api.defaultUser.passwordSecretName -}}
{{- end }}

{{- define "updraft.dagsFolder" -}}
{{- if .Values.dags.gitSync.enabled -}}
{{- trimSuffix "/" (printf "%s/repo/%s" .Values.dags.mountPath (trimPrefix "/" .Values.dags.gitSync.subPath)) -}}
{{- else -}}
{{- .Values.dags.mountPath -}}
{{- end -}}
{{- end }}

{{- define "updraft.podTemplatePath" -}}/opt/updraft/pod_templates/pod_template_file.yaml{{- end }}

{{/*
The executors `executor` names, as a JSON list: one name, or several comma-separated
(LocalExecutor,QueueExecutor), the first being the default (core.executor). Use:
`has "QueueExecutor" (include "updraft.executors" . | fromJsonArray)`.
*/}}
{{- define "updraft.executors" -}}
{{- $out := list -}}
{{- range splitList "," .Values.executor -}}
{{- $name := trim . -}}
{{- if has $name $out -}}
{{- fail (printf "executor=%s names %s twice: list each executor once (the first is the default)." $.Values.executor $name) -}}
{{- end -}}
{{- $out = append $out $name -}}
{{- end -}}
{{- toJson $out -}}
{{- end }}

{{/* "true" when the executors include (list $ "QueueExecutor"), else "". */}}
{{- define "updraft.hasExecutor" -}}
{{- if has (index . 1) (include "updraft.executors" (index . 0) | fromJsonArray) -}}true{{- end -}}
{{- end }}

{{/* The Secret holding queue.broker_url (key `connection`). */}}
{{- define "updraft.brokerUrlSecretName" -}}
{{- default (printf "%s-broker-url" .Release.Name) .Values.data.brokerUrlSecretName -}}
{{- end }}
{{- define "updraft.redisPasswordSecretName" -}}
{{- default (printf "%s-redis-password" .Release.Name) .Values.redis.passwordSecretName -}}
{{- end }}
{{- define "updraft.workerServiceName" -}}{{ .Release.Name }}-worker{{- end }}

{{/*
The broker's TLS material (data.brokerTlsSecretName), mounted in every container that reaches
Redis: (list $ reachesRedis). Empty when there is none or the container does not reach Redis.
*/}}
{{- define "updraft.brokerTlsPath" -}}/opt/updraft/secrets/broker-tls{{- end }}
{{- define "updraft.brokerTls" -}}
{{- $ := index . 0 -}}
{{- if and (index . 1) $.Values.data.brokerTlsSecretName (include "updraft.hasExecutor" (list $ "QueueExecutor")) -}}true{{- end -}}
{{- end }}
{{- define "updraft.brokerTlsMount" -}}
{{- if include "updraft.brokerTls" . }}
- name: broker-tls
  mountPath: {{ include "updraft.brokerTlsPath" (index . 0) }}
  readOnly: true
{{- end }}
{{- end }}
{{- define "updraft.brokerTlsVolume" -}}
{{- if include "updraft.brokerTls" . }}
- name: broker-tls
  secret:
    secretName: {{ (index . 0).Values.data.brokerTlsSecretName }}
{{- end }}
{{- end }}

{{/*
Airflow settings Updraft has no equivalent for. A value that asks for what Airflow would do
differently fails the install; one that matches Updraft's behaviour is accepted, not rendered,
and listed in NOTES.txt.
*/}}
{{- define "updraft.airflowOnlySettings" -}}
core:
  load_examples: "Updraft loads no example DAGs: remove config.core.load_examples or set it to False."
{{- end }}

{{/*
Settings the chart sets from its own values. Given in `config` too, one of the two would silently
lose (and KEDA's query and the termination grace period are computed from the values), or a
password would land in a Pod spec: refused, naming the value to use.
*/}}
{{- define "updraft.chartOwnedSettings" -}}
queue:
  broker_url: "the broker URL holds Redis's password and must come from a Secret: set data.brokerUrl (copied into a Secret) or data.brokerUrlSecretName, or use the chart's Redis (redis.enabled)."
worker:
  queues: "set workers.queues instead (a list)."
  concurrency: "set workers.concurrency instead."
  max_tasks: "set workers.maxTasks instead."
  drain_timeout: "set workers.drainTimeout instead (the termination grace period is checked against it)."
  server_port: "set workers.serverPort instead."
  server_url: "the chart sets it from each worker Pod's name and the headless Service <release>-worker."
{{- end }}

{{/*
The `config` values as a dict of env name → string value, without the Airflow-only settings.
*/}}
{{- define "updraft.configEnv" -}}
{{- $only := include "updraft.airflowOnlySettings" . | fromYaml -}}
{{- $owned := include "updraft.chartOwnedSettings" . | fromYaml -}}
{{- $out := dict -}}
{{- range $section, $keys := .Values.config -}}
{{- if not (kindIs "map" $keys) -}}
{{- fail (printf "config.%s must be a map of settings (config.%s.<key>: value), got %s." $section $section (kindOf $keys)) -}}
{{- end -}}
{{- range $key, $value := $keys -}}
{{- with get (get $owned $section | default dict) $key -}}
{{- fail (printf "config.%s.%s: %s" $section $key .) -}}
{{- end -}}
{{- $why := get (get $only $section | default dict) $key -}}
{{- if $why -}}
{{- if not (has (lower (toString $value)) (list "false" "f" "no" "n" "off" "0")) -}}
{{- fail (printf "config.%s.%s=%v: %s" $section $key $value $why) -}}
{{- end -}}
{{- else -}}
{{- $_ := set $out (printf "UPDRAFT__%s__%s" (upper $section) (upper $key)) (toString $value) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- toJson $out -}}
{{- end }}

{{/* The Airflow-only settings that were given (and dropped), for NOTES.txt. */}}
{{- define "updraft.ignoredSettings" -}}
{{- $only := include "updraft.airflowOnlySettings" . | fromYaml -}}
{{- $out := list -}}
{{- range $section, $keys := .Values.config -}}
{{- range $key, $value := $keys -}}
{{- if get (get $only $section | default dict) $key -}}
{{- $out = append $out (printf "config.%s.%s" $section $key) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- join ", " $out -}}
{{- end }}

{{/*
Environment of an Updraft container: (list $ "server") for components that use the database and
sign tokens, (list $ "server" true) for those that also use the QueueExecutor's Redis (scheduler,
API server), (list $ "worker") for task Pods, which reach Updraft only through the execution API
and get no database URL and no key, (list $ "queue-worker") for `updraft worker` Pods: Redis, the
execution API and the key that signs log requests, never the database. Secrets come by
secretKeyRef, never as values.
*/}}
{{- define "updraft.env" -}}
{{- $ := index . 0 -}}
{{- $kind := index . 1 -}}
{{- /* (list $ "server" true): this component also reaches Redis (the QueueExecutor's broker). */ -}}
{{- $broker := and (gt (len .) 2) (index . 2) (include "updraft.hasExecutor" (list $ "QueueExecutor")) -}}
{{- $plain := dict -}}
{{- $_ := set $plain "UPDRAFT_HOME" "/opt/updraft" -}}
{{- $_ := set $plain "UPDRAFT__CORE__EXECUTOR" $.Values.executor -}}
{{- $_ := set $plain "UPDRAFT__CORE__DAGS_FOLDER" (include "updraft.dagsFolder" $) -}}
{{- $_ := set $plain "UPDRAFT__LOGGING__BASE_LOG_FOLDER" $.Values.logs.mountPath -}}
{{- $api := include "updraft.apiServer" $ | fromJson -}}
{{- $_ := set $plain "UPDRAFT__CORE__EXECUTION_API_SERVER_URL" (printf "http://%s.%s.svc:%v/execution/" (include "updraft.apiServiceName" $) $.Release.Namespace (int $api.service.port)) -}}
{{- if include "updraft.hasExecutor" (list $ "KubernetesExecutor") -}}
{{- $_ := set $plain "UPDRAFT__KUBERNETES_EXECUTOR__POD_TEMPLATE_FILE" (include "updraft.podTemplatePath" $) -}}
{{- $_ := set $plain "UPDRAFT__KUBERNETES_EXECUTOR__NAMESPACE" $.Release.Namespace -}}
{{- /* The scheduler reaches the Kubernetes API with its service account (RBAC in rbac.yaml). */ -}}
{{- $_ := set $plain "UPDRAFT__KUBERNETES_EXECUTOR__IN_CLUSTER" "true" -}}
{{- end -}}
{{- if include "updraft.brokerTls" (list $ (or $broker (eq $kind "queue-worker"))) -}}
{{- $tls := include "updraft.brokerTlsPath" $ -}}
{{- $_ := set $plain "UPDRAFT__QUEUE__TLS_CA_FILE" (printf "%s/ca.crt" $tls) -}}
{{- if $.Values.data.brokerTlsClientCert -}}
{{- $_ := set $plain "UPDRAFT__QUEUE__TLS_CERT_FILE" (printf "%s/tls.crt" $tls) -}}
{{- $_ := set $plain "UPDRAFT__QUEUE__TLS_KEY_FILE" (printf "%s/tls.key" $tls) -}}
{{- end -}}
{{- end -}}
{{- if $.Values.statsd.enabled -}}
{{- $_ := set $plain "UPDRAFT__METRICS__STATSD_ON" "true" -}}
{{- $_ := set $plain "UPDRAFT__METRICS__STATSD_HOST" (printf "%s-statsd" $.Release.Name) -}}
{{- $_ := set $plain "UPDRAFT__METRICS__STATSD_PORT" (toString $.Values.statsd.port) -}}
{{- $_ := set $plain "UPDRAFT__METRICS__STATSD_PREFIX" $.Values.statsd.prefix -}}
{{- end -}}
{{- /* config.* last: a setting given there wins over the chart's own choice. */ -}}
{{- $plain = merge (include "updraft.configEnv" $ | fromJson) $plain -}}
{{- if eq $kind "queue-worker" }}
{{- /* First, so that worker.server_url below can use it: Kubernetes expands $(POD_NAME) only from variables before it. */}}
- name: POD_NAME
  valueFrom:
    fieldRef:
      fieldPath: metadata.name
{{- end }}
{{- range $name := keys $plain | sortAlpha }}
- name: {{ $name }}
  value: {{ get $plain $name | quote }}
{{- end }}
{{- if eq $kind "queue-worker" }}
{{- $w := $.Values.workers }}
- name: UPDRAFT__WORKER__QUEUES
  value: {{ join "," $w.queues | quote }}
- name: UPDRAFT__WORKER__CONCURRENCY
  value: {{ $w.concurrency | quote }}
- name: UPDRAFT__WORKER__MAX_TASKS
  value: {{ $w.maxTasks | quote }}
- name: UPDRAFT__WORKER__DRAIN_TIMEOUT
  value: {{ $w.drainTimeout | quote }}
- name: UPDRAFT__WORKER__SERVER_PORT
  value: {{ $w.serverPort | quote }}
- name: UPDRAFT__WORKER__SERVER_URL
  value: {{ printf "http://$(POD_NAME).%s.%s.svc:%v" (include "updraft.workerServiceName" $) $.Release.Namespace $w.serverPort | quote }}
{{- /* The API server fetches logs from the worker with a token signed by this key. No database URL, no fernet key: workers never touch the database. */}}
- name: UPDRAFT__API__SECRET_KEY
  valueFrom:
    secretKeyRef:
      name: {{ include "updraft.apiSecretKeySecretName" $ }}
      key: api-secret-key
{{- end }}
{{- if or $broker (eq $kind "queue-worker") }}
- name: UPDRAFT__QUEUE__BROKER_URL
  valueFrom:
    secretKeyRef:
      name: {{ include "updraft.brokerUrlSecretName" $ }}
      key: connection
{{- end }}
{{- if eq $kind "server" }}
- name: UPDRAFT__DATABASE__SQL_ALCHEMY_CONN
  valueFrom:
    secretKeyRef:
      name: {{ include "updraft.metadataSecretName" $ }}
      key: connection
- name: UPDRAFT__API__SECRET_KEY
  valueFrom:
    secretKeyRef:
      name: {{ include "updraft.apiSecretKeySecretName" $ }}
      key: api-secret-key
- name: UPDRAFT__CORE__FERNET_KEY
  valueFrom:
    secretKeyRef:
      name: {{ include "updraft.fernetKeySecretName" $ }}
      key: fernet-key
{{- end }}
{{- with $.Values.env }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{- define "updraft.envFrom" -}}
{{- if .Values.extraEnvFrom -}}
{{ tpl .Values.extraEnvFrom . }}
{{- end -}}
{{- end }}

{{/* Pod security: the image's user, its group for files on shared volumes. */}}
{{- define "updraft.podSecurityContext" -}}
runAsUser: {{ .Values.uid }}
runAsGroup: {{ .Values.gid }}
fsGroup: {{ .Values.gid }}
runAsNonRoot: true
{{- end }}

{{- define "updraft.containerSecurityContext" -}}
allowPrivilegeEscalation: false
capabilities:
  drop: [ALL]
{{- end }}

{{/*
Volume mounts of DAGs (read-only: Updraft only reads DAG files; git-sync or whoever fills the
volume writes them) and logs.
*/}}
{{- define "updraft.volumeMounts" -}}
{{- $ := index . 0 -}}
{{- if index . 1 }}
- name: dags
  mountPath: {{ $.Values.dags.mountPath }}
  readOnly: true
{{- end }}
- name: logs
  mountPath: {{ $.Values.logs.mountPath }}
{{- end }}

{{/* Volumes of DAGs (list $ withDags) and logs. */}}
{{- define "updraft.volumes" -}}
{{- $ := index . 0 -}}
{{- if index . 1 }}
- name: dags
{{- if $.Values.dags.persistence.enabled }}
  persistentVolumeClaim:
    claimName: {{ default (printf "%s-dags" $.Release.Name) $.Values.dags.persistence.existingClaim }}
{{- else }}
  emptyDir: {}
{{- end }}
{{- end }}
- name: logs
{{- if $.Values.logs.persistence.enabled }}
  persistentVolumeClaim:
    claimName: {{ default (printf "%s-logs" $.Release.Name) $.Values.logs.persistence.existingClaim }}
{{- else }}
  emptyDir: {}
{{- end }}
{{- end }}

{{/*
The git-sync container (list $ oneTime): a sidecar that keeps syncing, or (oneTime) an init
container that checks the DAGs out once for a worker Pod. It writes into the dags volume; the
DAGs folder is <mountPath>/repo/<subPath>, `repo` being git-sync's link to the current checkout.
*/}}
{{- define "updraft.gitSyncContainer" -}}
{{- $ := index . 0 -}}
{{- $oneTime := index . 1 -}}
{{- $g := $.Values.dags.gitSync -}}
- name: {{ if $oneTime }}git-sync-init{{ else }}git-sync{{ end }}
  image: {{ printf "%s:%s" $.Values.images.gitSync.repository $.Values.images.gitSync.tag }}
  imagePullPolicy: {{ $.Values.images.gitSync.pullPolicy }}
  securityContext:
    runAsUser: 65533
    allowPrivilegeEscalation: false
    capabilities:
      drop: [ALL]
  env:
    - name: GITSYNC_REPO
      value: {{ $g.repo | quote }}
    - name: GITSYNC_REF
      value: {{ $g.branch | quote }}
    - name: GITSYNC_DEPTH
      value: {{ $g.depth | quote }}
    - name: GITSYNC_ROOT
      value: {{ $.Values.dags.mountPath | quote }}
    - name: GITSYNC_LINK
      value: repo
    - name: GITSYNC_PERIOD
      value: {{ printf "%vs" $g.wait | quote }}
    - name: GITSYNC_ONE_TIME
      value: {{ ternary "true" "false" $oneTime | quote }}
  {{- with $g.credentialsSecret }}
  envFrom:
    - secretRef:
        name: {{ . }}
  {{- end }}
  {{- with $g.resources }}
  resources:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  volumeMounts:
    - name: dags
      mountPath: {{ $.Values.dags.mountPath }}
{{- end }}

{{/*
An Updraft component's Deployment: (dict "root" $ "name" "scheduler" "args" (list …)
"values" $.Values.scheduler "dags" true "gitSyncOwner" false "podTemplate" false "ports" false
"broker" false).
"dags": the container reads DAG files (gets a git-sync sidecar when there is no DAGs PVC);
"gitSyncOwner": runs the one git-sync that fills the DAGs PVC; "broker": reaches the
QueueExecutor's Redis (when the executors include it).
*/}}
{{- define "updraft.componentDeployment" -}}
{{- $ := .root -}}
{{- $v := .values -}}
{{- $name := .name -}}
{{- /* With a DAGs PVC one git-sync (the DAG processor's) fills it; without, each Pod syncs its own. */ -}}
{{- $gitSync := and $.Values.dags.gitSync.enabled (or .gitSyncOwner (and .dags (not $.Values.dags.persistence.enabled))) -}}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ $.Release.Name }}-{{ $name }}
  labels:
    {{- include "updraft.labels" $ | nindent 4 }}
    component: {{ $name }}
spec:
  replicas: {{ $v.replicas }}
  selector:
    matchLabels:
      {{- include "updraft.selectorLabels" (list $ $name) | nindent 6 }}
  template:
    metadata:
      labels:
        {{- include "updraft.selectorLabels" (list $ $name) | nindent 8 }}
        {{- with $.Values.labels }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
      annotations:
        {{- /* Restart the Pods when a key they read changes (values only; generated keys are stable). */}}
        checksum/config: {{ include "updraft.configEnv" $ | sha256sum | trunc 16 | quote }}
    spec:
      serviceAccountName: {{ include "updraft.serviceAccountName" $ }}
      securityContext:
        {{- include "updraft.podSecurityContext" $ | nindent 8 }}
      {{- with $v.nodeSelector }}
      nodeSelector:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $v.tolerations }}
      tolerations:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $v.affinity }}
      affinity:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      containers:
        - name: {{ $name }}
          image: {{ include "updraft.image" $ }}
          imagePullPolicy: {{ $.Values.images.updraft.pullPolicy }}
          args:
            {{- toYaml .args | nindent 12 }}
          securityContext:
            {{- include "updraft.containerSecurityContext" $ | nindent 12 }}
          env:
            {{- include "updraft.env" (list $ "server" .broker) | trim | nindent 12 }}
          {{- with include "updraft.envFrom" $ }}
          envFrom:
            {{- . | nindent 12 }}
          {{- end }}
          {{- with $v.resources }}
          resources:
            {{- toYaml . | nindent 12 }}
          {{- end }}
          {{- if .ports }}
          ports:
            - name: api
              containerPort: 8080
              protocol: TCP
          livenessProbe:
            httpGet:
              path: /health
              port: api
            {{- toYaml $v.livenessProbe | nindent 12 }}
          readinessProbe:
            httpGet:
              path: /health
              port: api
            {{- toYaml $v.readinessProbe | nindent 12 }}
          {{- end }}
          volumeMounts:
            {{- include "updraft.volumeMounts" (list $ .dags) | trim | nindent 12 }}
            {{- if .podTemplate }}
            - name: pod-template
              mountPath: {{ include "updraft.podTemplatePath" $ }}
              subPath: pod_template_file.yaml
              readOnly: true
            {{- end }}
            {{- include "updraft.brokerTlsMount" (list $ .broker) | indent 12 }}
        {{- if $gitSync }}
        {{- include "updraft.gitSyncContainer" (list $ false) | nindent 8 }}
        {{- end }}
      volumes:
        {{- include "updraft.volumes" (list $ .dags) | trim | nindent 8 }}
        {{- if .podTemplate }}
        - name: pod-template
          configMap:
            name: {{ $.Release.Name }}-pod-template
        {{- end }}
        {{- include "updraft.brokerTlsVolume" (list $ .broker) | indent 8 }}
{{- end }}
