package io.quiver.server;

import io.quiver.cluster.ClusterOptions;
import java.util.Arrays;
import picocli.CommandLine.Option;

/** Cluster settings shared by every role; each flag also reads its {@code QUIVER_*} variable (flag wins). */
final class ClusterMixin {
  @Option(names = "--cluster-name", defaultValue = "${env:QUIVER_CLUSTER_NAME:-quiver}",
      description = "Hazelcast cluster name; processes with different names never join (env QUIVER_CLUSTER_NAME).")
  String clusterName;

  @Option(names = "--cluster-host", defaultValue = "${env:QUIVER_CLUSTER_HOST:-127.0.0.1}",
      description = "Interface for cluster traffic (env QUIVER_CLUSTER_HOST).")
  String clusterHost;

  @Option(names = "--cluster-public-host", defaultValue = "${env:QUIVER_CLUSTER_PUBLIC_HOST}",
      description = "Address other members use to reach this one, when it differs from --cluster-host (env QUIVER_CLUSTER_PUBLIC_HOST).")
  String clusterPublicHost;

  @Option(names = "--cluster-port", defaultValue = "${env:QUIVER_CLUSTER_PORT:-5701}",
      description = "Hazelcast port; the next free one is taken when busy (env QUIVER_CLUSTER_PORT).")
  int clusterPort;

  @Option(names = "--cluster-members", defaultValue = "${env:QUIVER_CLUSTER_MEMBERS:-127.0.0.1}",
      description = "Comma-separated members to join, host or host:port (env QUIVER_CLUSTER_MEMBERS).")
  String clusterMembers;

  @Option(names = "--cluster-k8s-service", defaultValue = "${env:QUIVER_CLUSTER_K8S_SERVICE}",
      description = "Kubernetes headless service for DNS discovery instead of --cluster-members (env QUIVER_CLUSTER_K8S_SERVICE).")
  String k8sService;

  @Option(names = "--cluster-token", defaultValue = "${env:QUIVER_CLUSTER_TOKEN:-}",
      description = "Shared secret on the shards' internal port (env QUIVER_CLUSTER_TOKEN).")
  String clusterToken;

  ClusterOptions toOptions(boolean lite) {
    return new ClusterOptions()
        .clusterName(clusterName)
        .host(clusterHost)
        .publicHost(clusterPublicHost)
        .port(clusterPort)
        .members(Arrays.stream(clusterMembers.split(",")).map(String::trim).filter(s -> !s.isEmpty()).toList())
        .kubernetesService(k8sService)
        .liteMember(lite);
  }
}
