package dev.caravan.control;

import java.util.Map;

/** The worker's JMX face (dev.caravan:type=Worker,name=&lt;worker id&gt;), also reachable through Jolokia. */
public interface WorkerControlMBean {

    /** Stop claiming new jobs; running jobs go on. */
    void pause();

    /** Claim again. */
    void resume();

    /** Stop claiming and let the running jobs finish; returns how many are still running. */
    int drain();

    boolean isPaused();

    int getInFlight();

    int getFreeSlots();

    int getCapacity();

    String getWorkerId();

    /** Every caravan.* setting as resolved, passwords, keys and URL credentials masked. */
    Map<String, String> getConfiguration();
}
