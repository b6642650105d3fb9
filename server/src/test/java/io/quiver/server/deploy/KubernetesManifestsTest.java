package io.quiver.server.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.EnvFromSource;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.PodTemplateSpec;
import io.fabric8.kubernetes.api.model.Probe;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.fabric8.kubernetes.api.model.autoscaling.v2.HorizontalPodAutoscaler;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyIngressRule;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyPeer;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyPort;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Renders deploy/k8s with {@code kubectl kustomize}, reads every object as a typed Kubernetes model
 * object (fabric8) and checks these rules, for the base and for each overlay:
 * <ol>
 *   <li>every object is a known typed kind, and the expected workloads, Services, PDBs, HPA,
 *       NetworkPolicies, ConfigMap and Secret are there;</li>
 *   <li>every container has a liveness and a readiness probe (HTTP, on a port it declares; shards
 *       /live and /ready on 9200) and a startup probe;</li>
 *   <li>every container sets CPU and memory requests and limits;</li>
 *   <li>pods run as non-root (runAsNonRoot, uid not 0), containers without privilege escalation,
 *       with a read-only root filesystem and no capabilities;</li>
 *   <li>every PodDisruptionBudget and Service selector matches the pod labels of exactly one workload,
 *       and every Service target port is a port of those pods;</li>
 *   <li>container ports are those of API.md §1 (gateway 8080, 9090; shard 9100, 9200; Hazelcast 5701)
 *       and agree with the port settings in the environment;</li>
 *   <li>every QUIVER_* variable (env, ConfigMap keys used by envFrom) is a documented setting, every
 *       other variable is a helper referenced as $(NAME), every secretKeyRef names a key of the Secret;</li>
 *   <li>memory sizing (docs/KUBERNETES.md): shard heap &gt;= 1.1 x (1.25 x QUIVER_MEMORY_BUDGET_MB + 256 MiB),
 *       every container's memory limit &gt;= heap + 512 MiB;</li>
 *   <li>shards: the StatefulSet's governing Service is headless, the data volume is a claim template
 *       mounted at QUIVER_DATA_DIR, the id comes from the ordinal (no QUIVER_SHARD_ID), cluster and
 *       advertised addresses come from status.podIP, QUIVER_CLUSTER_K8S_SERVICE names a headless
 *       Service publishing not-ready addresses of gateways and shards on 5701, a preStop hook runs
 *       {@code quiver ctl drain}, the grace period is at least 300 s;</li>
 *   <li>the gateway HPA scales the gateway Deployment on CPU, and the Deployment leaves replicas to it;</li>
 *   <li>NetworkPolicies: shard pods accept only 9100, 9200, 5701 and only from gateway and shard pods;
 *       gateway pods accept 8080 and 9090 from anyone and 5701 only from gateway and shard pods.</li>
 * </ol>
 */
class KubernetesManifestsTest {
  private static final Set<Integer> API_PORTS = Set.of(8080, 9090, 9100, 9200, 5701);
  private static final Map<String, Set<Integer>> PORTS_BY_ROLE = Map.of(
      "gateway", Set.of(8080, 9090, 5701), "shard", Set.of(9100, 9200, 5701));
  private static final Map<String, Integer> PORT_SETTINGS = Map.of("QUIVER_HTTP_PORT", 8080, "QUIVER_GRPC_PORT", 9090,
      "QUIVER_SHARD_PORT", 9100, "QUIVER_SHARD_HTTP_PORT", 9200, "QUIVER_CLUSTER_PORT", 5701);
  private static final long MIB = 1024 * 1024;
  private static final Pattern REFERENCE = Pattern.compile("\\$\\(([A-Za-z_][A-Za-z0-9_]*)\\)");

  /** One rendered kustomization as typed objects. */
  private record Rendered(List<HasMetadata> objects) {
    <T extends HasMetadata> List<T> all(Class<T> type) {
      return objects.stream().filter(type::isInstance).map(type::cast).toList();
    }

    <T extends HasMetadata> T one(Class<T> type, String name) {
      return all(type).stream().filter(o -> o.getMetadata().getName().equals(name)).findFirst()
          .orElseThrow(() -> new AssertionError("no " + type.getSimpleName() + " " + name));
    }

    /** Pod templates of the workloads, by workload name. */
    Map<String, PodTemplateSpec> podTemplates() {
      Map<String, PodTemplateSpec> t = new LinkedHashMap<>();
      all(StatefulSet.class).forEach(s -> t.put(s.getMetadata().getName(), s.getSpec().getTemplate()));
      all(Deployment.class).forEach(d -> t.put(d.getMetadata().getName(), d.getSpec().getTemplate()));
      return t;
    }

    ConfigMap configMap(String name) {
      return all(ConfigMap.class).stream().filter(c -> c.getMetadata().getName().equals(name)).findFirst()
          .orElseThrow(() -> new AssertionError("no ConfigMap " + name));
    }

    /** The container's effective environment: envFrom ConfigMaps, then env values (null for valueFrom). */
    Map<String, String> environment(Container c) {
      Map<String, String> env = new LinkedHashMap<>();
      for (EnvFromSource from : c.getEnvFrom()) {
        assertThat(from.getConfigMapRef()).as(c.getName() + ": envFrom only from ConfigMaps").isNotNull();
        env.putAll(configMap(from.getConfigMapRef().getName()).getData());
      }
      for (EnvVar v : c.getEnv()) {
        env.put(v.getName(), v.getValue());
      }
      return env;
    }
  }

  private static final Map<String, Rendered> RENDERED = new java.util.concurrent.ConcurrentHashMap<>();

  /** kubectl kustomize DIR, parsed; rendered once per directory. */
  private static Rendered render(String dir) {
    DeployFiles.requireTool("kubectl", "kubectl renders kustomizations offline; install it from the Kubernetes release");
    return RENDERED.computeIfAbsent(dir, KubernetesManifestsTest::renderNow);
  }

  private static Rendered renderNow(String dir) {
    DeployFiles.requireTool("kubectl", "kubectl renders kustomizations offline; install it from the Kubernetes release");
    DeployFiles.Run run = DeployFiles.run("kubectl", "kustomize", dir);
    assertThat(run.exit()).as("kubectl kustomize " + dir + ":\n" + run.output()).isZero();
    List<HasMetadata> objects = new ArrayList<>();
    for (String doc : run.output().split("(?m)^---\\s*$")) {
      if (doc.isBlank()) {
        continue;
      }
      Object o = Serialization.unmarshal(doc);
      assertThat(o).as("typed Kubernetes object:\n" + doc).isInstanceOf(HasMetadata.class).isNotInstanceOf(GenericKubernetesResource.class);
      objects.add((HasMetadata) o);
    }
    return new Rendered(objects);
  }

  @ParameterizedTest
  @ValueSource(strings = {"deploy/k8s/base", "deploy/k8s/overlays/small"})
  void rendersTheExpectedObjects(String dir) {
    Rendered r = render(dir);
    r.one(StatefulSet.class, "quiver-shard");
    r.one(Deployment.class, "quiver-gateway");
    r.one(HorizontalPodAutoscaler.class, "quiver-gateway");
    r.one(PodDisruptionBudget.class, "quiver-shard");
    r.one(PodDisruptionBudget.class, "quiver-gateway");
    r.one(Service.class, "quiver-gateway");
    r.one(Service.class, "quiver-shard");
    r.one(Service.class, "quiver-hazelcast");
    r.one(NetworkPolicy.class, "quiver-shard");
    r.one(NetworkPolicy.class, "quiver-gateway");
    r.one(Secret.class, "quiver-secrets");
    assertThat(r.all(ConfigMap.class)).hasSize(1);
  }

  @ParameterizedTest
  @ValueSource(strings = {"deploy/k8s/base", "deploy/k8s/overlays/small"})
  void everyContainerHasProbesResourcesAndARestrictedSecurityContext(String dir) {
    Rendered r = render(dir);
    r.podTemplates().forEach((workload, template) -> {
      PodSpec pod = template.getSpec();
      assertThat(pod.getSecurityContext().getRunAsNonRoot()).as(workload + " runAsNonRoot").isTrue();
      assertThat(pod.getSecurityContext().getRunAsUser()).as(workload + " runAsUser").isNotNull().isNotZero();
      for (Container c : pod.getContainers()) {
        String where = workload + "/" + c.getName();
        for (Probe p : new Probe[] {c.getLivenessProbe(), c.getReadinessProbe(), c.getStartupProbe()}) {
          assertThat(p).as(where + " probes").isNotNull();
          assertThat(p.getHttpGet()).as(where + " HTTP probe").isNotNull();
          assertThat(portNumber(c, p.getHttpGet().getPort())).as(where + " probe port is declared").isNotNull();
        }
        for (String kind : List.of("cpu", "memory")) {
          assertThat(c.getResources().getRequests()).as(where + " requests").containsKey(kind);
          assertThat(c.getResources().getLimits()).as(where + " limits").containsKey(kind);
        }
        var sc = c.getSecurityContext();
        assertThat(sc).as(where + " securityContext").isNotNull();
        assertThat(sc.getAllowPrivilegeEscalation()).as(where + " allowPrivilegeEscalation").isFalse();
        assertThat(sc.getReadOnlyRootFilesystem()).as(where + " readOnlyRootFilesystem").isTrue();
        assertThat(sc.getCapabilities().getDrop()).as(where + " drops capabilities").contains("ALL");
        assertThat(sc.getRunAsUser() == null || sc.getRunAsUser() != 0).as(where + " not uid 0").isTrue();
      }
    });
    Container shard = container(r, "quiver-shard");
    assertThat(shard.getLivenessProbe().getHttpGet().getPath()).isEqualTo("/live");
    assertThat(shard.getReadinessProbe().getHttpGet().getPath()).isEqualTo("/ready");
    assertThat(portNumber(shard, shard.getReadinessProbe().getHttpGet().getPort())).isEqualTo(9200);
    assertThat(portNumber(shard, shard.getLivenessProbe().getHttpGet().getPort())).isEqualTo(9200);
  }

  @ParameterizedTest
  @ValueSource(strings = {"deploy/k8s/base", "deploy/k8s/overlays/small"})
  void selectorsMatchPodLabelsAndTargetPortsExist(String dir) {
    Rendered r = render(dir);
    Map<String, PodTemplateSpec> templates = r.podTemplates();
    for (PodDisruptionBudget pdb : r.all(PodDisruptionBudget.class)) {
      Map<String, String> selector = pdb.getSpec().getSelector().getMatchLabels();
      assertThat(pdb.getSpec().getSelector().getMatchExpressions()).isNullOrEmpty();
      assertThat(matching(templates, selector)).as("PDB " + pdb.getMetadata().getName() + " selects one workload").hasSize(1);
    }
    for (Service svc : r.all(Service.class)) {
      List<String> selected = matching(templates, svc.getSpec().getSelector());
      assertThat(selected).as("Service " + svc.getMetadata().getName() + " selects pods").isNotEmpty();
      for (var port : svc.getSpec().getPorts()) {
        for (String workload : selected) {
          Container c = templates.get(workload).getSpec().getContainers().get(0);
          IntOrString target = port.getTargetPort() == null ? new IntOrString(port.getPort()) : port.getTargetPort();
          assertThat(portNumber(c, target)).as("Service " + svc.getMetadata().getName() + " port " + port.getName()
              + " exists on " + workload).isEqualTo(port.getPort());
        }
      }
    }
    for (Deployment d : r.all(Deployment.class)) {
      assertThat(d.getSpec().getTemplate().getMetadata().getLabels()).containsAllEntriesOf(d.getSpec().getSelector().getMatchLabels());
    }
    for (StatefulSet s : r.all(StatefulSet.class)) {
      assertThat(s.getSpec().getTemplate().getMetadata().getLabels()).containsAllEntriesOf(s.getSpec().getSelector().getMatchLabels());
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"deploy/k8s/base", "deploy/k8s/overlays/small"})
  void containerPortsAreTheApiPortsAndAgreeWithTheSettings(String dir) {
    Rendered r = render(dir);
    Map<String, String> roles = Map.of("quiver-gateway", "gateway", "quiver-shard", "shard");
    roles.forEach((workload, role) -> {
      Container c = container(r, workload);
      assertThat(c.getArgs()).as(workload + " role").first().isEqualTo(role);
      Set<Integer> ports = new HashSet<>();
      for (ContainerPort p : c.getPorts()) {
        assertThat(API_PORTS).as(workload + " port " + p.getName()).contains(p.getContainerPort());
        ports.add(p.getContainerPort());
      }
      assertThat(ports).as(workload + " ports").isEqualTo(PORTS_BY_ROLE.get(role));
      Map<String, String> env = r.environment(c);
      PORT_SETTINGS.forEach((setting, port) -> {
        if (env.containsKey(setting) && ports.contains(port)) {
          assertThat(env.get(setting)).as(workload + " " + setting).isEqualTo(port.toString());
        }
      });
    });
  }

  @ParameterizedTest
  @ValueSource(strings = {"deploy/k8s/base", "deploy/k8s/overlays/small"})
  void usesOnlyDocumentedSettingsAndExistingSecretKeys(String dir) {
    Rendered r = render(dir);
    Set<String> documented = DeployFiles.documentedSettings();
    Secret secret = r.one(Secret.class, "quiver-secrets");
    Set<String> secretKeys = new HashSet<>();
    if (secret.getStringData() != null) {
      secretKeys.addAll(secret.getStringData().keySet());
    }
    if (secret.getData() != null) {
      secretKeys.addAll(secret.getData().keySet());
    }
    r.podTemplates().forEach((workload, template) -> {
      for (Container c : template.getSpec().getContainers()) {
        Map<String, String> env = r.environment(c);
        Set<String> referenced = new HashSet<>();
        env.values().stream().filter(Objects::nonNull).forEach(v -> {
          Matcher m = REFERENCE.matcher(v);
          while (m.find()) {
            referenced.add(m.group(1));
          }
        });
        for (String name : env.keySet()) {
          if (name.startsWith("QUIVER_")) {
            assertThat(documented).as(workload + " sets " + name
                + ": not in README.md's configuration table, the launcher's options or API.md §1").contains(name);
          } else {
            assertThat(referenced).as(workload + ": " + name + " is neither a QUIVER_* setting nor used as $(" + name + ")")
                .contains(name);
          }
        }
        for (EnvVar v : c.getEnv()) {
          if (v.getValueFrom() != null && v.getValueFrom().getSecretKeyRef() != null) {
            assertThat(v.getValueFrom().getSecretKeyRef().getName()).isEqualTo("quiver-secrets");
            assertThat(secretKeys).as(workload + " " + v.getName()).contains(v.getValueFrom().getSecretKeyRef().getKey());
          }
        }
      }
    });
  }

  /** The memory sizing rule of docs/KUBERNETES.md. */
  @ParameterizedTest
  @ValueSource(strings = {"deploy/k8s/base", "deploy/k8s/overlays/small"})
  void memoryLimitsFollowTheSizingRule(String dir) {
    Rendered r = render(dir);
    r.podTemplates().forEach((workload, template) -> {
      for (Container c : template.getSpec().getContainers()) {
        Map<String, String> env = r.environment(c);
        assertThat(env).as(workload + " sets QUIVER_HEAP explicitly").containsKey("QUIVER_HEAP");
        long heap = jvmBytes(env.get("QUIVER_HEAP"));
        long limit = bytes(c.getResources().getLimits().get("memory"));
        long request = bytes(c.getResources().getRequests().get("memory"));
        assertThat(limit).as(workload + ": memory limit >= heap + 512Mi").isGreaterThanOrEqualTo(heap + 512 * MIB);
        assertThat(request).as(workload + ": memory request = limit (no overcommit of a JVM heap)").isEqualTo(limit);
        if (c.getArgs().get(0).equals("shard")) {
          long budgetMb = Long.parseLong(env.getOrDefault("QUIVER_MEMORY_BUDGET_MB", "1024"));
          assertThat(heap).as(workload + ": heap >= 1.1 x (1.25 x budget + 256Mi)").isGreaterThanOrEqualTo(minShardHeap(budgetMb));
        }
      }
    });
  }

  @ParameterizedTest
  @ValueSource(strings = {"deploy/k8s/base", "deploy/k8s/overlays/small"})
  void shardsHaveStableIdsOwnVolumesPodAddressesDiscoveryAndADrainHook(String dir) {
    Rendered r = render(dir);
    StatefulSet sts = r.one(StatefulSet.class, "quiver-shard");
    Service governing = r.one(Service.class, sts.getSpec().getServiceName());
    assertThat(governing.getSpec().getClusterIP()).isEqualTo("None");
    Container c = container(r, "quiver-shard");
    Map<String, String> env = r.environment(c);
    assertThat(env).as("the id comes from the StatefulSet ordinal").doesNotContainKey("QUIVER_SHARD_ID");

    String claim = sts.getSpec().getVolumeClaimTemplates().get(0).getMetadata().getName();
    assertThat(c.getVolumeMounts()).anyMatch(m -> m.getName().equals(claim) && m.getMountPath().equals(env.get("QUIVER_DATA_DIR")));

    Map<String, String> fields = new HashMap<>();
    c.getEnv().stream().filter(v -> v.getValueFrom() != null && v.getValueFrom().getFieldRef() != null)
        .forEach(v -> fields.put(v.getName(), v.getValueFrom().getFieldRef().getFieldPath()));
    for (String setting : List.of("QUIVER_CLUSTER_HOST", "QUIVER_CLUSTER_PUBLIC_HOST", "QUIVER_SHARD_ADVERTISED_HOST")) {
      Matcher m = REFERENCE.matcher(env.get(setting));
      assertThat(m.matches()).as(setting + " is $(VAR)").isTrue();
      assertThat(fields.get(m.group(1))).as(setting + " comes from the pod IP").isEqualTo("status.podIP");
    }
    assertThat(container(r, "quiver-gateway").getEnv()).anyMatch(v -> v.getName().equals("QUIVER_CLUSTER_HOST"));

    Map<String, PodTemplateSpec> templates = r.podTemplates();
    for (String workload : templates.keySet()) {
      Map<String, String> wenv = r.environment(templates.get(workload).getSpec().getContainers().get(0));
      String service = wenv.get("QUIVER_CLUSTER_K8S_SERVICE");
      assertThat(service).as(workload + " uses Hazelcast DNS discovery").isNotNull();
      Service hz = r.one(Service.class, service.substring(0, service.indexOf('.')));
      assertThat(hz.getSpec().getClusterIP()).isEqualTo("None");
      assertThat(hz.getSpec().getPublishNotReadyAddresses()).isTrue();
      assertThat(hz.getSpec().getPorts()).anyMatch(p -> p.getPort() == 5701);
      assertThat(matching(templates, hz.getSpec().getSelector())).containsExactlyInAnyOrder("quiver-shard", "quiver-gateway");
    }

    assertThat(String.join(" ", c.getLifecycle().getPreStop().getExec().getCommand())).contains("quiver ctl drain");
    assertThat(sts.getSpec().getTemplate().getSpec().getTerminationGracePeriodSeconds()).isGreaterThanOrEqualTo(300L);
  }

  @ParameterizedTest
  @ValueSource(strings = {"deploy/k8s/base", "deploy/k8s/overlays/small"})
  void gatewaysScaleOnCpuThroughTheHpa(String dir) {
    Rendered r = render(dir);
    HorizontalPodAutoscaler hpa = r.one(HorizontalPodAutoscaler.class, "quiver-gateway");
    assertThat(hpa.getSpec().getScaleTargetRef().getKind()).isEqualTo("Deployment");
    assertThat(hpa.getSpec().getScaleTargetRef().getName()).isEqualTo("quiver-gateway");
    assertThat(hpa.getSpec().getMinReplicas()).isGreaterThanOrEqualTo(2);
    assertThat(hpa.getSpec().getMaxReplicas()).isGreaterThanOrEqualTo(hpa.getSpec().getMinReplicas());
    assertThat(hpa.getSpec().getMetrics()).anyMatch(m -> m.getResource() != null && m.getResource().getName().equals("cpu"));
    assertThat(r.one(Deployment.class, "quiver-gateway").getSpec().getReplicas()).as("replicas are the HPA's").isNull();
  }

  @ParameterizedTest
  @ValueSource(strings = {"deploy/k8s/base", "deploy/k8s/overlays/small"})
  void networkPoliciesOpenOnlyThePublicPorts(String dir) {
    Rendered r = render(dir);
    Map<String, PodTemplateSpec> templates = r.podTemplates();
    Set<String> quiverPods = Set.of("quiver-gateway", "quiver-shard");
    Map<String, Set<Integer>> openToAll = new HashMap<>();
    Map<String, Set<Integer>> openToQuiver = new HashMap<>();
    for (NetworkPolicy np : r.all(NetworkPolicy.class)) {
      List<String> targets = matching(templates, np.getSpec().getPodSelector().getMatchLabels());
      assertThat(targets).as("NetworkPolicy " + np.getMetadata().getName()).hasSize(1);
      String target = targets.get(0);
      assertThat(np.getSpec().getPolicyTypes()).contains("Ingress");
      for (NetworkPolicyIngressRule rule : np.getSpec().getIngress()) {
        Set<Integer> ports = new HashSet<>();
        for (NetworkPolicyPort p : rule.getPorts()) {
          ports.add(p.getPort().getIntVal());
        }
        assertThat(ports).as(np.getMetadata().getName() + " rule names its ports").isNotEmpty();
        if (rule.getFrom() == null || rule.getFrom().isEmpty()) {
          openToAll.computeIfAbsent(target, k -> new HashSet<>()).addAll(ports);
          continue;
        }
        for (NetworkPolicyPeer peer : rule.getFrom()) {
          assertThat(peer.getIpBlock()).isNull();
          assertThat(peer.getNamespaceSelector()).isNull();
          assertThat(quiverPods).containsAll(matching(templates, peer.getPodSelector().getMatchLabels()));
        }
        openToQuiver.computeIfAbsent(target, k -> new HashSet<>()).addAll(ports);
      }
    }
    assertThat(openToAll.get("quiver-gateway")).containsExactlyInAnyOrder(8080, 9090);
    assertThat(openToQuiver.get("quiver-gateway")).containsExactlyInAnyOrder(5701);
    assertThat(openToAll).doesNotContainKey("quiver-shard");
    assertThat(openToQuiver.get("quiver-shard")).containsExactlyInAnyOrder(9100, 9200, 5701);
  }

  // ---------------------------------------------------------------- helpers

  private static Container container(Rendered r, String workload) {
    return r.podTemplates().get(workload).getSpec().getContainers().get(0);
  }

  private static List<String> matching(Map<String, PodTemplateSpec> templates, Map<String, String> selector) {
    assertThat(selector).as("selector").isNotEmpty();
    return templates.entrySet().stream()
        .filter(e -> e.getValue().getMetadata().getLabels().entrySet().containsAll(selector.entrySet()))
        .map(Map.Entry::getKey).toList();
  }

  /** A port given by number or by name, as the container's port number, or null. */
  private static Integer portNumber(Container c, IntOrString port) {
    if (port.getIntVal() != null) {
      return c.getPorts().stream().anyMatch(p -> p.getContainerPort().equals(port.getIntVal())) ? port.getIntVal() : null;
    }
    return c.getPorts().stream().filter(p -> port.getStrVal().equals(p.getName())).map(ContainerPort::getContainerPort)
        .findFirst().orElse(null);
  }

  private static long bytes(Quantity q) {
    assertThat(q).isNotNull();
    return Quantity.getAmountInBytes(q).setScale(0, java.math.RoundingMode.UP).longValueExact();
  }

  /**
   * The smallest shard heap for a budget: the shard's own start-up check (MemoryBudget: 1.25 x budget
   * + 256 MiB of Runtime.maxMemory()) plus 10 %, because with the Serial GC (chosen on one CPU or under
   * 1792 MB) the JVM reports a survivor space less than -Xmx.
   */
  static long minShardHeap(long budgetMb) {
    return (long) Math.ceil(1.1 * (budgetMb * 1.25 + 256)) * MIB;
  }

  /** A JVM size such as 1536m, 1g or 524288k. */
  static long jvmBytes(String size) {
    Matcher m = Pattern.compile("(\\d+)([kKmMgG]?)").matcher(size.strip());
    assertThat(m.matches()).as("JVM size " + size).isTrue();
    long n = Long.parseLong(m.group(1));
    return switch (m.group(2).toLowerCase()) {
      case "k" -> n * 1024;
      case "m" -> n * MIB;
      case "g" -> n * 1024 * MIB;
      default -> n;
    };
  }
}
