package io.quiver.shard.storage;

/**
 * What {@link WriteAheadLog#replay} found: the last sequence in the log (0 if empty), how many records it
 * verified and how many it handed to the handler, and how many bytes of torn tail it cut off. Immutable.
 */
public record ReplayResult(long lastSequence, long recordsRead, long recordsHandled, long tornBytesDropped) {
}
