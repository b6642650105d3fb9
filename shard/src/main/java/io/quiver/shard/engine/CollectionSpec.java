package io.quiver.shard.engine;

import io.quiver.shard.index.Metric;

/**
 * What a shard knows about a collection: identity (tenant, name, uid), dimension, default metric,
 * whether non-finite values are refused, and the partition count. Immutable.
 */
public record CollectionSpec(String tenant, String name, long uid, int dimension, Metric metric, boolean strictFinite,
    int partitions) {

  public String displayName() {
    return tenant + "/" + name;
  }
}
