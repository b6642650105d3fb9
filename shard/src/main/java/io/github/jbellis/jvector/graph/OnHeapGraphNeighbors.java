package io.github.jbellis.jvector.graph;

/**
 * Quiver's one reach into jvector's package: a node's neighbour list with its scores. jvector 4.0.2 keeps
 * them in {@link OnHeapGraphIndex} but hands out only the node ids ({@code getNeighborsIterator}); its own
 * {@code save} writes the scores but refuses a graph that may still change, and its {@code load} ignores
 * them and recomputes one similarity per edge. Quiver's checkpoints store the scores
 * ({@code io.quiver.shard.index.graph.OnHeapAnnGraph}) so that a restart loads a graph without that
 * recomputation. Lives in jvector's package for the package-private {@code getNeighbors}; the jar is not
 * sealed and Quiver runs on the class path, so both share the package at run time.
 *
 * <p>Stateless; as thread-safe as the graph read (a node's neighbour list is replaced, never changed in
 * place, so the list returned is a consistent snapshot).
 */
public final class OnHeapGraphNeighbors {

    private OnHeapGraphNeighbors() {
    }

    /** The neighbours of {@code node} at {@code level}, best first, with their scores; null if it has none there. */
    public static NodeArray of(OnHeapGraphIndex graph, int level, int node) {
        return graph.getNeighbors(level, node);
    }
}
