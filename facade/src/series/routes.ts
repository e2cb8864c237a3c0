import express, { type Router } from 'express';
import { z } from 'zod';
import { errorBody } from '../../../lib/http/errors';
import { validate } from '../../../lib/http/validate';
import type { SeriesRecorder } from './series';

/** `since` as an ISO 8601 time or epoch milliseconds, as a browser's `Date.now()` or `toISOString()` gives it. */
const since = z
  .string()
  .max(40)
  .transform((s, ctx) => {
    const ms = /^\d{1,15}$/.test(s) ? Number(s) : /^\d{4}-\d\d-\d\dT/.test(s) ? Date.parse(s) : Number.NaN;
    if (Number.isNaN(ms)) ctx.addIssue({ code: 'custom', message: 'must be an ISO 8601 time (2026-01-31T12:00:00Z) or epoch milliseconds' });
    return ms;
  });

const seriesQuery = z.object({
  context: z.string({ error: 'required: the context whose series to read' }).min(1, 'required: the context whose series to read').max(64),
  since: since.optional(),
});

/** `GET /series?context=&since=`: a context's points newer than `since` (all that is kept without it), oldest first. */
export function seriesRoutes(recorder: SeriesRecorder): Router {
  const router = express.Router();
  router.get('/series', (req, res) => {
    const q = validate(seriesQuery, req.query, 'query');
    if (!recorder.has(q.context)) {
      res.status(404).json(errorBody('unknown_context', `unknown context ${JSON.stringify(q.context)}`));
      return;
    }
    res.json({
      context: q.context,
      resolutionSeconds: recorder.resolutionSeconds,
      retentionSeconds: recorder.retentionSeconds,
      points: recorder.series(q.context, q.since),
    });
  });
  return router;
}
