package dev.caravan.job;

import org.apache.camel.Exchange;
import org.apache.camel.ExchangeExtension;
import org.apache.camel.ExchangePropertyKey;
import org.apache.camel.Processor;

/**
 * Gives a write-back its own redeliveries. A failed job reaches job-fail from a doCatch, its exchange
 * marked by the pipeline's error handling (redelivery exhausted) and by the doTry around it (the
 * try-block flag, with which Camel leaves every failure to the doCatch instead of its error handler):
 * job-fail's redelivery policy was never applied, so a write-back cut off by the database was not
 * tried again, and the job waited for the reaper and spent an attempt. job-fail's first step clears
 * the marks, so its write-back's failures are its own error handler's.
 */
public final class FreshRedelivery implements Processor {

    @Override
    public void process(Exchange exchange) {
        ExchangeExtension state = exchange.getExchangeExtension();
        state.setRedeliveryExhausted(false);
        state.setErrorHandlerHandled(null);
        state.setFailureHandled(false);
        exchange.removeProperty(ExchangePropertyKey.TRY_ROUTE_BLOCK);
        exchange.removeProperty(ExchangePropertyKey.EXCEPTION_HANDLED);
    }
}
