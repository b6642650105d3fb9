package io.quiver.shard.storage;

/** When an append's future completes (QUIVER_DURABILITY; see DESIGN.md "Durability profiles"). */
public enum Durability {
    /**
     * After a {@code force} that covers the record (fdatasync). Concurrent appenders share one force:
     * group commit. Nothing acknowledged is lost on power loss.
     */
    SYNC,
    /**
     * After the record's bytes reach the OS (the write call returned); a background force runs every
     * {@link WalOptions#syncIntervalMs()}. Survives a process crash; a power loss can lose up to one interval.
     */
    ASYNC
}
