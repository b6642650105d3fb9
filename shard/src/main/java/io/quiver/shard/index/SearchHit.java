package io.quiver.shard.index;

import io.quiver.shard.index.payload.Payload;

/** One search hit: the point id (u64 held in a long), its score under the search metric, its payload or null. */
public record SearchHit(long id, float score, Payload payload) {

    /** The id as an unsigned decimal string. */
    public String idString() {
        return Long.toUnsignedString(id);
    }
}
