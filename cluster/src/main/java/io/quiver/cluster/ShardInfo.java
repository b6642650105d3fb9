package io.quiver.cluster;

import io.vertx.core.json.JsonObject;

/**
 * A shard as registered in the cluster: its stable id, where its internal gRPC and HTTP ports are,
 * the Hazelcast member that registered it, and its state ({@code recovering}, {@code ready},
 * {@code degraded}). Immutable.
 */
public record ShardInfo(int id, String host, int grpcPort, int httpPort, String memberUuid, String state) {

  public static final String STATE_RECOVERING = "recovering";
  public static final String STATE_READY = "ready";
  public static final String STATE_DEGRADED = "degraded";

  public String grpcAddress() {
    return host + ":" + grpcPort;
  }

  public ShardInfo withState(String newState) {
    return new ShardInfo(id, host, grpcPort, httpPort, memberUuid, newState);
  }

  public JsonObject toJson() {
    return new JsonObject()
        .put("id", id)
        .put("host", host)
        .put("grpc_port", grpcPort)
        .put("http_port", httpPort)
        .put("member", memberUuid)
        .put("state", state);
  }

  public static ShardInfo fromJson(JsonObject j) {
    return new ShardInfo(
        j.getInteger("id"),
        j.getString("host"),
        j.getInteger("grpc_port"),
        j.getInteger("http_port"),
        j.getString("member"),
        j.getString("state"));
  }
}
