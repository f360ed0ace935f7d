package dev.caravan;

import java.util.List;

/**
 * The names Java, the routes and the SQL share on an exchange, in one place. Routes and SQL read them
 * as {@code ${exchangeProperty.jobId}} or {@code ${variable.resultJson}}; {@code ExchangeNamesTest}
 * checks that every property and variable a route or a statement reads is declared here or set by a
 * route, so a name cannot drift between the Java that sets it and the YAML that reads it.
 */
public final class ExchangeNames {

    // Exchange properties of a job's exchange, set when the job is claimed (JobDispatcher) and kept
    // for the whole run; a pipeline may read any of them.

    /** The claimed row ({@code JobRow}). */
    public static final String JOB = "job";
    public static final String JOB_ID = "jobId";
    public static final String JOB_TYPE = "jobType";
    public static final String JOB_LANE = "jobLane";
    public static final String JOB_NAME = "jobName";
    public static final String JOB_GROUP = "jobGroup";
    /** 1 for the first run, retry_count + 1 after that. */
    public static final String ATTEMPT = "attempt";
    public static final String CORRELATION_ID = "correlationId";
    /** The worker id and start the claim wrote: every write-back is fenced on both. */
    public static final String CLAIM_WORKER_ID = "claimWorkerId";
    public static final String CLAIMED_AT = "claimedAt";
    /**
     * While a job waits on an asynchronous provider call (async-http): a {@code Runnable} that cancels it,
     * which shutdown runs to end the job's run.
     */
    public static final String CANCEL_CALL = "caravanCancelCall";
    /** When an asynchronous provider call's request was all sent (System.nanoTime()), set by async-http. */
    public static final String SENT_AT = "caravanSentAt";
    /**
     * The trace this run continues, as a W3C traceparent: the run's own span when tracing is on, else
     * the context the job was queued with (or null). A job a pipeline queues continues it, and a retry
     * of a job queued without one keeps it.
     */
    public static final String TRACEPARENT = "traceparent";
    /** The run's span ({@code io.opentelemetry.api.trace.Span}), when tracing is on. */
    public static final String RUN_SPAN = "caravanRunSpan";
    /** Set by a pipeline: the paths of the files it wrote, which go to output_files. */
    public static final String OUTPUT_FILES = "outputFiles";

    // Variables of a job's write-back (job-run, then job-complete or job-fail).

    /** The pipeline's result as JSON text (JobResults), for job_result. */
    public static final String RESULT_JSON = "resultJson";
    /** The pipeline's files as a text array (JobResults), for output_files. */
    public static final String OUTPUT_FILE_PATHS = "outputFiles";
    /** Whether the completion was written (false: the claim was lost, fenced out). */
    public static final String COMPLETED = "completed";
    /** The failure's plan ({@code FailurePlan}): retry, snooze or dead-letter, set by job-fail. */
    public static final String FAILURE = "failure";

    // Variables of a provider call.

    /** Set by a pipeline before direct:enrich-llm (optional): its own list of language models, "provider[:model],...". */
    public static final String LLM_PROVIDERS = "llmProviders";
    /** The model a language model's call asks for, set by enrich-llm (a call's span and its spend name it). */
    public static final String PROVIDER_MODEL = "providerModel";
    /** The address of a JSON provider's call, set by ProviderRequests.prepare for route provider-&lt;name&gt;. */
    public static final String PROVIDER_URL = "providerUrl";
    /** Whether the batch lane had an answer for the job's request, set by llmBatches.take (route llm-batch-call). */
    public static final String BATCH_ANSWERED = "batchAnswered";

    // Variables of an API or console request.

    /** Who acted (a job's error_details.actions): "API", "console (key …)". */
    public static final String ACTOR = "actor";
    /** The console session's token, expected back with every action. */
    public static final String CSRF = "csrf";

    public static final List<String> PROPERTIES = List.of(JOB, JOB_ID, JOB_TYPE, JOB_LANE, JOB_NAME, JOB_GROUP, ATTEMPT,
            CORRELATION_ID, CLAIM_WORKER_ID, CLAIMED_AT, TRACEPARENT, OUTPUT_FILES);
    public static final List<String> VARIABLES = List.of(RESULT_JSON, OUTPUT_FILE_PATHS, COMPLETED, FAILURE, LLM_PROVIDERS,
            PROVIDER_MODEL, PROVIDER_URL, BATCH_ANSWERED, ACTOR, CSRF);

    private ExchangeNames() {
    }
}
