package dev.caravan.provider;

import java.math.BigDecimal;
import java.time.LocalDate;
import java.util.LinkedHashSet;
import java.util.Set;

/** Calls, tokens and cost summed in memory by the SpendLedger until its next write. */
class SpendSum {
    long calls;
    long input;
    long output;
    BigDecimal cost = BigDecimal.ZERO;

    void add(long c, long in, long out, BigDecimal money) {
        calls += c;
        input += in;
        output += out;
        cost = cost.add(money);
    }

    /** One job's sum, with the providers and models it called. */
    static final class OfJob extends SpendSum {
        final LocalDate day;
        final Set<String> providers = new LinkedHashSet<>();
        final Set<String> models = new LinkedHashSet<>();

        OfJob(LocalDate day) {
            this.day = day;
        }
    }
}
