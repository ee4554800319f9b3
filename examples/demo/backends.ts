import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

// Demo department backends for the embedded default. They answer with synthetic data derived
// from the ID number, so every valid ID has a stable record. Loopback only.

const FAMILY = ['张', '王', '李', '陈', '黄', '林', '何', '梁', '郭', '罗'];
const GIVEN = ['伟', '芳', '敏', '静', '强', '磊', '洋', '艳', '杰', '娟'];
const CITIES: Record<string, string> = { '4401': '广州市', '4403': '深圳市', '4404': '珠海市', '4406': '佛山市', '4419': '东莞市', '4420': '中山市' };

function seed(idNumber: string): Buffer {
  return createHash('sha256').update(idNumber).digest();
}

export function demoInsuredPerson(idNumber: string) {
  const s = seed(idNumber);
  const year = Number(idNumber.slice(6, 10));
  const startYear = Math.min(Math.max(year + 22, 2000), 2024);
  return {
    name: FAMILY[s[0]! % FAMILY.length]! + GIVEN[s[1]! % GIVEN.length]!,
    status: s[2]! % 5 === 0 ? '暂停缴费' : '正常参保',
    city: CITIES[idNumber.slice(0, 4)] ?? '深圳市',
    startDate: `${startYear}-${String((s[3]! % 12) + 1).padStart(2, '0')}-01`,
    insuranceTypes: ['养老保险', '医疗保险', '失业保险', '工伤保险'].slice(0, 2 + (s[4]! % 3)),
  };
}

export function demoHousingFundAccount(idNumber: string, months: number) {
  const s = seed(idNumber);
  const deposit = 800 + (s[5]! % 40) * 50;
  const records = [];
  const now = new Date(Date.UTC(2026, 10, 1));
  for (let i = 0; i < months; i++) {
    const month = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - i, 1));
    records.push({ month: month.toISOString().slice(0, 7), amount: deposit, kind: '汇缴' });
  }
  return {
    accountNo: `4403${s.readUInt32BE(6).toString().padStart(10, '0')}`,
    status: '正常',
    balance: deposit * (24 + (s[10]! % 60)),
    monthlyDeposit: deposit,
    records,
  };
}

function readJson(req: http.IncomingMessage): Promise<unknown> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      try {
        resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')));
      } catch {
        resolve(undefined);
      }
    });
  });
}

function send(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** 深圳市社会保险 demo: POST /si/insured-persons/query { idNumber, name? } → { result }. */
export function socialSecurityHandler(req: http.IncomingMessage, res: http.ServerResponse): void {
  if (req.method !== 'POST' || req.url !== '/si/insured-persons/query') return send(res, 404, { error: 'not found' });
  void readJson(req).then((body) => {
    const idNumber = (body as { idNumber?: unknown } | undefined)?.idNumber;
    if (typeof idNumber !== 'string') return send(res, 400, { error: 'idNumber is required' });
    send(res, 200, { code: 0, result: demoInsuredPerson(idNumber) });
  });
}

/** 深圳市住房公积金 demo: GET /accounts/{idNumber}/detail?months=N → { code, data }. */
export function housingFundHandler(req: http.IncomingMessage, res: http.ServerResponse): void {
  const url = new URL(req.url ?? '/', 'http://demo');
  const match = /^\/accounts\/([0-9]{17}[0-9X])\/detail$/.exec(url.pathname);
  if (req.method !== 'GET' || !match) return send(res, 404, { code: '4040', message: 'not found' });
  const months = Math.min(Math.max(Number(url.searchParams.get('months') ?? 6) || 6, 1), 24);
  send(res, 200, { code: '0000', data: demoHousingFundAccount(match[1]!, months) });
}

export interface DemoBackends {
  socialSecurityUrl: string;
  housingFundUrl: string;
  /** Requests the backends have received, for tests that prove a backend was not called. */
  readonly requests: number;
  close(): Promise<void>;
}

function serve(handler: http.RequestListener, port: number): Promise<http.Server> {
  return new Promise((resolve, reject) => {
    const server = http.createServer({ keepAliveTimeout: 5_000 }, handler);
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

/** Starts both demo backends on loopback; port 0 picks free ports. */
export async function startDemoBackends(ports: { socialSecurity: number; housingFund: number }): Promise<DemoBackends> {
  let requests = 0;
  const counted = (handler: http.RequestListener): http.RequestListener => (req, res) => {
    requests++;
    handler(req, res);
  };
  const si = await serve(counted(socialSecurityHandler), ports.socialSecurity);
  const hf = await serve(counted(housingFundHandler), ports.housingFund).catch(async (error: Error) => {
    await new Promise((r) => si.close(r));
    throw error;
  });
  const url = (s: http.Server) => `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
  return {
    socialSecurityUrl: `${url(si)}/si`,
    housingFundUrl: url(hf),
    get requests() {
      return requests;
    },
    close: async () => {
      si.closeAllConnections();
      hf.closeAllConnections();
      await Promise.all([new Promise((r) => si.close(r)), new Promise((r) => hf.close(r))]);
    },
  };
}
