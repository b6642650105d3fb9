package io.quiver.loadtest;

import java.time.Duration;
import picocli.CommandLine;

/**
 * Parses durations the way operators type them: {@code 250ms}, {@code 30s}, {@code 5m}, {@code 2h},
 * a bare number of seconds ({@code 1.5}), or ISO-8601 ({@code PT30S}).
 */
public final class DurationConverter implements CommandLine.ITypeConverter<Duration> {

  @Override
  public Duration convert(String value) {
    return parse(value);
  }

  public static Duration parse(String value) {
    String v = value.trim().toLowerCase(java.util.Locale.ROOT);
    try {
      if (v.startsWith("pt") || v.startsWith("p")) {
        return Duration.parse(value.trim().toUpperCase(java.util.Locale.ROOT));
      }
      if (v.endsWith("ms")) {
        return Duration.ofNanos((long) (Double.parseDouble(v.substring(0, v.length() - 2)) * 1e6));
      }
      double factor = 1;
      String number = v;
      switch (v.charAt(v.length() - 1)) {
        case 's' -> number = v.substring(0, v.length() - 1);
        case 'm' -> {
          number = v.substring(0, v.length() - 1);
          factor = 60;
        }
        case 'h' -> {
          number = v.substring(0, v.length() - 1);
          factor = 3600;
        }
        default -> { }
      }
      double seconds = Double.parseDouble(number) * factor;
      if (seconds < 0) {
        throw new CommandLine.TypeConversionException("a duration cannot be negative: " + value);
      }
      return Duration.ofNanos((long) (seconds * 1e9));
    } catch (RuntimeException e) {
      if (e instanceof CommandLine.TypeConversionException t) {
        throw t;
      }
      throw new CommandLine.TypeConversionException("'" + value + "' is not a duration (e.g. 500ms, 30s, 5m, 1h)");
    }
  }
}
