package io.quiver.cluster;

import io.vertx.core.json.JsonObject;

/**
 * One partition moving from one shard to another, as the coordinator records it in Hazelcast so a
 * new coordinator can finish or roll it back: {@code epoch} is the ownership epoch the partition
 * gets on its new owner (the old one plus one); {@code state} is {@link #COPYING} until the table
 * flipped, then {@link #FLIPPED}. Immutable.
 */
public record PartitionMove(long collectionUid, int partition, int from, int to, long epoch, String state) {
  public static final String COPYING = "copying";
  public static final String FLIPPED = "flipped";

  public String key() {
    return collectionUid + "/" + partition;
  }

  public PartitionMove withState(String next) {
    return new PartitionMove(collectionUid, partition, from, to, epoch, next);
  }

  public JsonObject toJson() {
    return new JsonObject().put("uid", collectionUid).put("partition", partition).put("from", from).put("to", to)
        .put("epoch", epoch).put("state", state);
  }

  public static PartitionMove fromJson(JsonObject j) {
    return new PartitionMove(j.getLong("uid"), j.getInteger("partition"), j.getInteger("from"), j.getInteger("to"),
        j.getLong("epoch"), j.getString("state"));
  }
}
