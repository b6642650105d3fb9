package io.quiver.cluster;

import io.vertx.core.json.JsonObject;

/**
 * One collection in the cluster catalog. {@code uid} is unique for the life of the cluster, so a
 * collection dropped and created again under the same name never meets the old one's data.
 * Immutable.
 */
public record CollectionInfo(
    String tenant,
    String name,
    long uid,
    int dimension,
    String metric,
    boolean strictFinite,
    int partitions,
    long createdAtMillis) {

  /** The catalog key: tenant and name. */
  public String key() {
    return key(tenant, name);
  }

  public static String key(String tenant, String name) {
    return tenant + "/" + name;
  }

  public JsonObject toJson() {
    return new JsonObject()
        .put("tenant", tenant)
        .put("name", name)
        .put("uid", uid)
        .put("dimension", dimension)
        .put("metric", metric)
        .put("strict_finite", strictFinite)
        .put("partitions", partitions)
        .put("created_at", createdAtMillis);
  }

  public static CollectionInfo fromJson(JsonObject j) {
    return new CollectionInfo(
        j.getString("tenant"),
        j.getString("name"),
        j.getLong("uid"),
        j.getInteger("dimension"),
        j.getString("metric"),
        j.getBoolean("strict_finite"),
        j.getInteger("partitions"),
        j.getLong("created_at", 0L));
  }
}
