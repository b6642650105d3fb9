package io.quiver.shard.index;

import io.quiver.shard.index.payload.Payload;

/** A point as stored: its id (u64 held in a long), the vector exactly as written (a copy), and its payload. */
public record StoredPoint(long id, float[] vector, Payload payload) {
}
