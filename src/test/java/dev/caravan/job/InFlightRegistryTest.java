package dev.caravan.job;

import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** When a freed slot wakes the claim loop: only while the last claim may have left work in the table. */
class InFlightRegistryTest {

    private final InFlightRegistry inFlight = new InFlightRegistry(4);
    private final AtomicInteger wakeUps = new AtomicInteger();

    InFlightRegistryTest() {
        inFlight.onBacklogSlot(wakeUps::incrementAndGet);
    }

    private static JobRow job() {
        return new JobRow(UUID.randomUUID(), "t", null, null, null, "{}", 0, 3, 1000, "w", "2026-12-03T10:00:00Z", 0);
    }

    @Test
    void aClaimThatTookAllItAskedForMakesTheNextFreedSlotWakeTheClaim() throws Exception {
        assertThat(inFlight.claimSlots()).isEqualTo(4);
        JobRow[] jobs = {job(), job(), job(), job()};
        inFlight.claimed(4);
        for (JobRow j : jobs) {
            inFlight.add(j);
        }
        inFlight.settling(jobs[0]);
        assertThat(wakeUps).as("a slot freed by a job waiting for its completion batch").hasValue(1);
        inFlight.remove(jobs[0]);
        assertThat(wakeUps).as("its slot was freed already").hasValue(1);
        inFlight.remove(jobs[1]);
        assertThat(wakeUps).as("a running job's end").hasValue(2);
    }

    @Test
    void aClaimThatFoundLessThanItAskedForLeavesTheClaimToItsInterval() throws Exception {
        assertThat(inFlight.claimSlots()).isEqualTo(4);
        JobRow one = job();
        inFlight.claimed(1);
        inFlight.add(one);
        inFlight.remove(one);
        assertThat(wakeUps).as("the table had nothing more: an idle worker polls at its interval").hasValue(0);
    }

    @Test
    void anEmptyClaimWithEverySlotBusySaysNothingNew() throws Exception {
        inFlight.claimSlots();
        JobRow[] jobs = {job(), job(), job(), job()};
        inFlight.claimed(4);
        for (JobRow j : jobs) {
            inFlight.add(j);
        }
        // the greedy poll right after: no slot free, so it asks for none and gets none
        assertThat(inFlight.claimSlots()).isZero();
        inFlight.claimed(0);
        inFlight.remove(jobs[2]);
        assertThat(wakeUps).as("the backlog seen by the full claim still stands").hasValue(1);
        inFlight.stopClaiming();
        inFlight.remove(jobs[3]);
        assertThat(wakeUps).as("not once claiming has stopped").hasValue(1);
    }
}
