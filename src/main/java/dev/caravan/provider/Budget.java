package dev.caravan.provider;

import java.math.BigDecimal;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/** A money budget (caravan.budgets, CARAVAN_BUDGETS): a provider's or a job type's spending per day or month. */
public record Budget(String scope, boolean provider, boolean monthly, BigDecimal amount) {

    /** A budget's state at its last check, for /health and the console. */
    public record State(Budget budget, BigDecimal spent, boolean exhausted, Instant checkedAt) {
    }

    String name() {
        return scope + ":" + (monthly ? "monthly" : "daily");
    }

    LocalDate since(LocalDate today) {
        return monthly ? today.withDayOfMonth(1) : today;
    }

    Instant nextPeriod(LocalDate today) {
        return (monthly ? today.withDayOfMonth(1).plusMonths(1) : today.plusDays(1)).atStartOfDay(ZoneOffset.UTC).toInstant();
    }

    /** "openai:daily=50, ai_processing:monthly=1000"; a scope is a provider when one has that name, else a job type. */
    public static List<Budget> parse(String setting, Set<String> providerNames) {
        List<Budget> out = new ArrayList<>();
        if (setting == null || setting.isBlank()) {
            return out;
        }
        for (String entry : setting.split(",")) {
            if (entry.isBlank()) {
                continue;
            }
            String e = entry.trim();
            int colon = e.indexOf(':');
            int eq = e.indexOf('=', colon + 1);
            String period = colon > 0 && eq > colon ? e.substring(colon + 1, eq).trim() : "";
            if (!period.equals("daily") && !period.equals("monthly")) {
                throw new IllegalArgumentException("'" + e + "' is not scope:daily=amount or scope:monthly=amount");
            }
            BigDecimal amount;
            try {
                amount = new BigDecimal(e.substring(eq + 1).trim());
            } catch (NumberFormatException notANumber) {
                throw new IllegalArgumentException("'" + e + "': the amount is not a number");
            }
            String scope = e.substring(0, colon).trim();
            out.add(new Budget(scope, providerNames.contains(scope), period.equals("monthly"), amount));
        }
        return out;
    }
}
