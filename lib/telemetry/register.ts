/**
 * Starts tracing as a side effect. A process entry imports this FIRST, before anything that loads express, pg,
 * kafkajs or makes HTTP calls: instrumentation hooks `require` and patches modules as they load, so a module
 * required earlier stays untraced. (Setting env vars in the entry above this import does not help: tsx hoists
 * imports above other statements, as ES modules do.) Name the process with `OTEL_SERVICE_NAME`, or it is named
 * after its entry's folder.
 */
import { serviceNameFromEntry, startTracing } from './tracing';

export const tracing = startTracing({ serviceName: serviceNameFromEntry(process.argv[1]) });
