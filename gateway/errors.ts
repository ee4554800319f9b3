// The refusal codes of PROTOCOL.md §5. This table is the only place a code, its HTTP status
// and its wording live; test/gateway/errors.test.ts checks it against PROTOCOL.md itself.

export interface CodeInfo {
  readonly status: number;
  readonly message: string;
  readonly messageEn: string;
}

export const CODES = {
  BG_BAD_REQUEST: { status: 400, message: '请求格式错误', messageEn: 'Malformed request' },
  BG_VALIDATION_FAILED: { status: 400, message: '请求数据校验失败', messageEn: 'The request body does not match the operation schema' },
  BG_ENCRYPTION_REQUIRED: { status: 400, message: '该接口要求加密请求体', messageEn: 'This operation requires an encrypted body' },
  BG_DECRYPTION_FAILED: { status: 400, message: '请求体解密失败', messageEn: 'The encrypted body could not be decrypted' },
  BG_TOKEN_MISSING: { status: 401, message: '缺少访问令牌', messageEn: 'No bearer token' },
  BG_TOKEN_INVALID: { status: 401, message: '访问令牌无效或已过期', messageEn: 'The access token is invalid or expired' },
  BG_SIGNATURE_MISSING: { status: 401, message: '缺少签名信息', messageEn: 'A signature header is missing' },
  BG_SIGNATURE_INVALID: { status: 401, message: '签名验证失败', messageEn: 'The signature does not verify' },
  BG_TIMESTAMP_OUT_OF_WINDOW: { status: 401, message: '请求时间戳超出允许范围', messageEn: 'The timestamp is outside the allowed window' },
  BG_IP_DENIED: { status: 403, message: '来源地址不被允许', messageEn: 'The caller address is not allowed' },
  BG_TERMINAL_LOCKED: { status: 403, message: '终端已被锁定', messageEn: 'The terminal is locked' },
  BG_SCOPE_DENIED: { status: 403, message: '无权调用该服务', messageEn: 'The token does not grant this service' },
  BG_CROSS_BORDER_DENIED: { status: 403, message: '跨境数据传输未获准许', messageEn: 'The cross-border transfer is not permitted' },
  BG_ROUTE_NOT_FOUND: { status: 404, message: '接口不存在', messageEn: 'No such service or operation' },
  BG_NONCE_REPLAYED: { status: 409, message: '请求重复提交', messageEn: 'The nonce was already used' },
  BG_BODY_TOO_LARGE: { status: 413, message: '请求体过大', messageEn: 'The request body is too large' },
  BG_UNSUPPORTED_MEDIA_TYPE: { status: 415, message: '不支持的内容类型', messageEn: 'Unsupported content type' },
  BG_RATE_LIMITED: { status: 429, message: '调用过于频繁，请稍后再试', messageEn: 'Too many requests, retry later' },
  BG_INTERNAL: { status: 500, message: '网关内部错误', messageEn: 'Internal gateway error' },
  BG_UPSTREAM_UNAVAILABLE: { status: 502, message: '业务系统暂时不可用', messageEn: 'The backend is unavailable' },
  BG_UPSTREAM_FAULT: { status: 502, message: '业务系统返回错误', messageEn: 'The backend answered with an error' },
  BG_SERVICE_SUSPENDED: { status: 503, message: '服务已暂停', messageEn: 'The service is suspended' },
  BG_AUDIT_UNAVAILABLE: { status: 503, message: '审计服务不可用，请求未处理', messageEn: 'The audit trail is unavailable; nothing was done' },
  BG_UPSTREAM_TIMEOUT: { status: 504, message: '业务系统响应超时', messageEn: 'The backend did not answer in time' },
} as const satisfies Record<string, CodeInfo>;

export type ErrorCode = keyof typeof CODES;

/** One entry of a refusal's `details` array (PROTOCOL.md §3). */
export interface ErrorDetail {
  path?: string;
  message: string;
  [extra: string]: unknown;
}

export interface BaygateErrorOptions {
  /** Shown to the caller (PROTOCOL.md §3 `details`); must already be masked. */
  details?: ErrorDetail[];
  /** Extra response headers, e.g. Retry-After. */
  headers?: Record<string, string>;
  /** Written to the audit record only, never to the caller (crypto failures stay opaque). */
  reason?: string;
  cause?: unknown;
}

/**
 * A refusal with a PROTOCOL.md code. Everything else that escapes the pipeline is a fault
 * of the gateway and becomes BG_INTERNAL with no detail.
 */
export class BaygateError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly details?: ErrorDetail[];
  readonly headers: Record<string, string>;
  readonly reason?: string;
  /** oidc-provider's convention: a 5xx never exposes what went wrong. */
  readonly expose: boolean;

  constructor(code: ErrorCode, options: BaygateErrorOptions = {}) {
    super(options.reason ?? CODES[code].messageEn, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'BaygateError';
    this.code = code;
    this.status = CODES[code].status;
    this.details = options.details;
    this.headers = options.headers ?? {};
    this.reason = options.reason;
    this.expose = this.status < 500 || code !== 'BG_INTERNAL';
  }
}
