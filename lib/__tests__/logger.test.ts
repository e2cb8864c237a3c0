import { Writable } from 'node:stream';
import express from 'express';
import pino from 'pino';
import request from 'supertest';
import { requestContext } from '../http/middleware';
import { redactUrl } from '../logger';

describe('request URLs in logs', () => {
  it('redact the values of query parameters named like credentials, and nothing else', () => {
    expect(redactUrl('/api/users?limit=5&token=abc&api_key=k1&Password=p&client_secret=s&x=1')).toBe(
      '/api/users?limit=5&token=[redacted]&api_key=[redacted]&Password=[redacted]&client_secret=[redacted]&x=1',
    );
    expect(redactUrl('/a?access%5Ftoken=abc&sessionId=1')).toBe('/a?access%5Ftoken=[redacted]&sessionId=[redacted]');
    expect(redactUrl('/api/users?email=a@example.com&limit=2')).toBe('/api/users?email=a@example.com&limit=2');
    expect(redactUrl('/api/keys/1')).toBe('/api/keys/1');
  });

  it('are written redacted by the request log of every service', async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _enc, done) {
        lines.push(String(chunk));
        done();
      },
    });
    const app = express();
    app.use(requestContext(pino({ level: 'info' }, sink)));
    app.get('/x', (_req, res) => res.json({}));
    await request(app).get('/x?token=s3cr3t-value&page=2');
    const logged = lines.map((l) => JSON.parse(l) as { msg: string; path?: string }).find((l) => l.msg === 'request');
    expect(logged?.path).toBe('/x?token=[redacted]&page=2');
    expect(lines.join('')).not.toContain('s3cr3t-value');
  });
});
