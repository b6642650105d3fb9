package io.quiver.cluster;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * How a process joins the Quiver cluster (Hazelcast): cluster name, bind host and port, the members
 * to contact (TCP-IP join) or a Kubernetes headless service for DNS discovery, and whether this
 * process holds cluster data (shards) or is a lite member (gateways). Multicast is always off.
 * Mutable builder-style options; not thread-safe.
 */
public final class ClusterOptions {
  public static final String DEFAULT_CLUSTER_NAME = "quiver";
  public static final String DEFAULT_HOST = "127.0.0.1";
  public static final int DEFAULT_PORT = 5701;

  private String clusterName = DEFAULT_CLUSTER_NAME;
  private String host = DEFAULT_HOST;
  private String publicHost;
  private int port = DEFAULT_PORT;
  private boolean portAutoIncrement = true;
  private List<String> members = new ArrayList<>(List.of(DEFAULT_HOST));
  private String kubernetesService;
  private boolean liteMember;

  public String clusterName() {
    return clusterName;
  }

  public ClusterOptions clusterName(String clusterName) {
    if (clusterName == null || clusterName.isBlank()) {
      throw new IllegalArgumentException("cluster name must not be empty");
    }
    this.clusterName = clusterName;
    return this;
  }

  /** The interface Hazelcast and the event bus bind to. */
  public String host() {
    return host;
  }

  public ClusterOptions host(String host) {
    this.host = Objects.requireNonNull(host);
    return this;
  }

  /** The address other members use to reach this one; defaults to {@link #host()}. */
  public String publicHost() {
    return publicHost == null ? host : publicHost;
  }

  public ClusterOptions publicHost(String publicHost) {
    this.publicHost = publicHost;
    return this;
  }

  public int port() {
    return port;
  }

  public ClusterOptions port(int port) {
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException("cluster port must be 0..65535, got " + port);
    }
    this.port = port;
    return this;
  }

  public boolean portAutoIncrement() {
    return portAutoIncrement;
  }

  /** Whether Hazelcast may take the next free port when {@link #port()} is taken (several JVMs on one host). */
  public ClusterOptions portAutoIncrement(boolean portAutoIncrement) {
    this.portAutoIncrement = portAutoIncrement;
    return this;
  }

  /** Member addresses ({@code host} or {@code host:port}) for TCP-IP join. */
  public List<String> members() {
    return members;
  }

  public ClusterOptions members(List<String> members) {
    this.members = new ArrayList<>(members);
    return this;
  }

  public String kubernetesService() {
    return kubernetesService;
  }

  public ClusterOptions kubernetesService(String kubernetesService) {
    this.kubernetesService = kubernetesService;
    return this;
  }

  /** Lite members (gateways) take part in the cluster but hold none of its data. */
  public boolean liteMember() {
    return liteMember;
  }

  public ClusterOptions liteMember(boolean liteMember) {
    this.liteMember = liteMember;
    return this;
  }
}
