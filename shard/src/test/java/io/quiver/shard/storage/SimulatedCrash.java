package io.quiver.shard.storage;

/** Thrown by test crash points. An Error, so the store's cleanup leaves the files as a real crash would. */
final class SimulatedCrash extends Error {

    SimulatedCrash(String message) {
        super(message, null, false, false);
    }
}
