package io.quiver.gateway;

import io.quiver.common.QuiverException;
import java.util.Locale;

/**
 * The names of metrics and search modes as the API spells them (API.md §2), parsed and checked in
 * one place. Stateless.
 */
public final class SearchParams {
  public static final String DEFAULT = "dot";
  public static final String DEFAULT_MODE = "auto";

  private SearchParams() {}

  /** {@code dot}, {@code l2} or {@code cosine}; anything else is {@code invalid_argument} naming {@code field}. */
  public static String parse(String metric, String field) {
    String m = metric.toLowerCase(Locale.ROOT);
    return switch (m) {
      case "dot", "l2", "cosine" -> m;
      default -> throw QuiverException.invalid(field + " must be one of dot, l2, cosine; got '" + metric + "'");
    };
  }

  /** {@code exact}, {@code ann}, {@code ivf} (AIONBD's name for ann) or {@code auto}. */
  public static String parseMode(String mode) {
    String m = mode.toLowerCase(Locale.ROOT);
    return switch (m) {
      case "exact", "ann", "ivf", "auto" -> m;
      default -> throw QuiverException.invalid("mode must be one of exact, ann, ivf, auto; got '" + mode + "'");
    };
  }

  public static boolean higherIsBetter(String metric) {
    return !metric.equals("l2");
  }

  /** The mode to report when shards ran different ones: ann if any shard used the index. */
  static String combineModes(String a, String b) {
    if (a == null) {
      return b;
    }
    return a.equals(b) ? a : "ann";
  }

  /** Reports ann as ivf to a client that asked for ivf, so AIONBD clients see their own name. */
  static String displayMode(String ran, String requested) {
    return ran.equals("ann") && "ivf".equals(requested) ? "ivf" : ran;
  }
}
