package io.quiver.gateway;

import java.util.EnumSet;
import java.util.Locale;
import java.util.Set;

/**
 * What a caller may do: {@code read} (get, list, count, search), {@code write} (create and delete
 * collections, upsert, delete, payload changes), {@code admin} (operator endpoints). Scopes do not
 * imply each other: a key that should write and read names both. Immutable.
 */
public enum Scope {
  READ,
  WRITE,
  ADMIN;

  /** The name used in keys, tokens and messages: {@code read}, {@code write}, {@code admin}. */
  public String wireName() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** The scope named {@code s}, or null when the name is unknown. */
  public static Scope fromWireName(String s) {
    for (Scope scope : values()) {
      if (scope.wireName().equals(s)) {
        return scope;
      }
    }
    return null;
  }

  public static Set<Scope> all() {
    return EnumSet.allOf(Scope.class);
  }
}
