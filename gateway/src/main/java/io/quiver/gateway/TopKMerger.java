package io.quiver.gateway;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Merges the best-first hit lists of several shards into the global top-k: by score (higher first
 * for dot and cosine, lower first for l2), ties broken by id ascending (unsigned). Stateless.
 */
public final class TopKMerger {
  /** One hit: a point id (u64 in a long), its score and optionally its payload JSON bytes. */
  public record Hit(long id, float value, byte[] payload) {}

  private TopKMerger() {}

  /** The order in which hits rank, best first. */
  public static Comparator<Hit> order(boolean higherIsBetter) {
    Comparator<Hit> byScore = Comparator.comparingDouble(Hit::value);
    if (higherIsBetter) {
      byScore = byScore.reversed();
    }
    return byScore.thenComparing(Hit::id, Long::compareUnsigned);
  }

  /**
   * The best {@code k} of the union of {@code lists}, each id once. Sorting the union (at most shards x
   * k hits) is as fast as a k-way merge at these sizes and does not trust each list's tie order. An id
   * can come from two shards while its partition moves (the new owner has committed it, the old one has
   * not released it yet): the better-ranked copy is kept.
   */
  public static List<Hit> merge(List<List<Hit>> lists, int k, boolean higherIsBetter) {
    List<Hit> all = new ArrayList<>();
    lists.forEach(all::addAll);
    all.sort(order(higherIsBetter));
    List<Hit> out = new ArrayList<>(Math.min(k, all.size()));
    Set<Long> seen = new HashSet<>();
    for (Hit h : all) {
      if (out.size() == k) {
        break;
      }
      if (seen.add(h.id())) {
        out.add(h);
      }
    }
    return out;
  }
}
