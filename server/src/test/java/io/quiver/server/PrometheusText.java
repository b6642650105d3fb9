package io.quiver.server;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** A parsed Prometheus text exposition, for tests: series by name and labels. Immutable. */
final class PrometheusText {
  private static final Pattern LINE = Pattern.compile("([a-zA-Z_:][a-zA-Z0-9_:]*)(\\{(.*)})?\\s+(\\S+).*");
  private static final Pattern LABEL = Pattern.compile("([a-zA-Z_][a-zA-Z0-9_]*)=\"((?:[^\"\\\\]|\\\\.)*)\"");

  record Series(String name, Map<String, String> labels, double value) {}

  private final List<Series> series = new ArrayList<>();

  PrometheusText(String text) {
    for (String line : text.split("\n")) {
      if (line.isBlank() || line.startsWith("#")) {
        continue;
      }
      Matcher m = LINE.matcher(line);
      if (!m.matches()) {
        continue;
      }
      Map<String, String> labels = new LinkedHashMap<>();
      if (m.group(3) != null) {
        Matcher l = LABEL.matcher(m.group(3));
        while (l.find()) {
          labels.put(l.group(1), l.group(2));
        }
      }
      series.add(new Series(m.group(1), labels, Double.parseDouble(m.group(4))));
    }
  }

  Set<String> names() {
    Set<String> out = new HashSet<>();
    series.forEach(s -> out.add(s.name()));
    return out;
  }

  List<Series> all() {
    return series;
  }

  /** Sum of the series named {@code name} whose labels include every pair of {@code match} (k1, v1, k2, v2...). */
  double sum(String name, String... match) {
    double total = 0;
    outer:
    for (Series s : series) {
      if (!s.name().equals(name)) {
        continue;
      }
      for (int i = 0; i < match.length; i += 2) {
        if (!match[i + 1].equals(s.labels().get(match[i]))) {
          continue outer;
        }
      }
      total += s.value();
    }
    return total;
  }
}
