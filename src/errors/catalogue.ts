/**
 * The one catalogue of error codes. Names follow Tencent Cloud's published codes wherever one exists, so that
 * the compatibility layer can map them one to one. docs/errors.md lists the same codes; a test keeps the two
 * in step in both directions.
 */
export interface ErrorSpec {
  /** HTTP status: 4xx for what the client sent, 5xx only for our own faults. */
  readonly status: number;
  /** One line for docs/errors.md and the OpenAPI document. */
  readonly meaning: string;
  /** The operator setting (environment variable) that controls when this error fires, if any. */
  readonly setting?: string;
}

export const catalogue = {
  'FailedOperation.EmptyImageError': {
    status: 400,
    meaning: 'The image is empty (zero bytes).',
  },
  'FailedOperation.ImageDecodeFailed': {
    status: 400,
    meaning: 'The image could not be decoded: corrupt, truncated, or not an image.',
  },
  'FailedOperation.ImageNotSupported': {
    status: 415,
    meaning: 'The image format is recognised but not supported by this server (e.g. HEVC HEIC, JPEG 2000).',
  },
  'FailedOperation.ImageSizeExceed': {
    status: 413,
    meaning: 'The image is larger, in bytes, than the operator allows.',
    setting: 'IMGSENSE_MAX_IMAGE_BYTES',
  },
  'FailedOperation.ImageResolutionExceed': {
    status: 400,
    meaning: 'The image width, height or total pixels (width x height x frames) exceed the operator limit.',
    setting: 'IMGSENSE_MAX_WIDTH, IMGSENSE_MAX_HEIGHT, IMGSENSE_MAX_PIXELS',
  },
  'FailedOperation.ImageResolutionTooSmall': {
    status: 400,
    meaning: 'The image is smaller than the minimum width or height (0x0 included).',
    setting: 'IMGSENSE_MIN_DIMENSION',
  },
  'FailedOperation.ImageFramesExceed': {
    status: 400,
    meaning: 'An animated or multi-page image has more frames than the operator allows.',
    setting: 'IMGSENSE_MAX_FRAMES',
  },
  'FailedOperation.ImageDownloadError': {
    status: 400,
    meaning: 'The image URL could not be fetched: connection failure, HTTP error, timeout, too many redirects.',
    setting: 'IMGSENSE_FETCH_TIMEOUT_MS, IMGSENSE_FETCH_MAX_REDIRECTS',
  },
  'FailedOperation.ProcessingTimeout': {
    status: 408,
    meaning: 'Processing the image took longer than the operator allows for one request.',
    setting: 'IMGSENSE_PROCESS_TIMEOUT_MS',
  },
  'InvalidParameter': {
    status: 400,
    meaning: 'The request is malformed: wrong content type, unparseable JSON or multipart, unknown field.',
  },
  'InvalidParameterValue': {
    status: 400,
    meaning: 'A parameter has a value outside what is allowed; the message names the parameter and the range.',
  },
  'InvalidParameterValue.UrlIllegal': {
    status: 400,
    meaning: 'The image URL is not an http(s) URL, or it resolves to an address the server refuses to fetch.',
    setting: 'IMGSENSE_FETCH_ALLOW_HOSTS',
  },
  'InvalidParameterValue.ImageBase64Illegal': {
    status: 400,
    meaning: 'The base64 image is not valid base64.',
  },
  'MissingParameter': {
    status: 400,
    meaning: 'A required parameter is missing (e.g. neither image nor url was given).',
  },
  'UnsupportedOperation': {
    status: 400,
    meaning: 'The operation cannot be applied to this input or output (e.g. an unknown operation name).',
  },
  'RequestSizeLimitExceeded': {
    status: 413,
    meaning: 'The request body is larger than the operator allows.',
    setting: 'IMGSENSE_MAX_BODY_BYTES',
  },
  'ResourceNotFound': {
    status: 404,
    meaning: 'No route or resource matches the request.',
  },
  'RequestLimitExceeded': {
    status: 429,
    meaning: 'Too many requests: the app\'s requests per second or concurrent requests, or the processing queue, are full; retry after Retry-After.',
    setting: 'IMGSENSE_MAX_QUEUE',
  },
  'AuthFailure.InvalidAuthorization': {
    status: 401,
    meaning: 'No credentials, or an Authorization header that is neither a Bearer token nor a TC3-HMAC-SHA256 signature.',
  },
  'AuthFailure.InvalidClient': {
    status: 401,
    meaning: 'The token endpoint got an unknown client_id, a wrong client_secret, or a disabled key pair.',
  },
  'AuthFailure.TokenFailure': {
    status: 401,
    meaning: 'The access token is unknown, expired or revoked.',
    setting: 'IMGSENSE_TOKEN_TTL_SECONDS',
  },
  'AuthFailure.SecretIdNotFound': {
    status: 401,
    meaning: 'The SecretId of a signed request (or the API key) does not exist or is disabled.',
    setting: 'IMGSENSE_API_KEY_AUTH',
  },
  'AuthFailure.SignatureFailure': {
    status: 401,
    meaning: 'The TC3-HMAC-SHA256 signature does not match the request.',
  },
  'AuthFailure.SignatureExpire': {
    status: 401,
    meaning: 'X-TC-Timestamp of a signed request is too far from the server clock.',
    setting: 'IMGSENSE_SIGNATURE_MAX_SKEW_SECONDS',
  },
  'AuthFailure.RequestReplayed': {
    status: 401,
    meaning: 'This exact signed request was already received; sign each request anew.',
    setting: 'IMGSENSE_SIGNATURE_MAX_SKEW_SECONDS',
  },
  'AuthFailure.AppSuspended': {
    status: 403,
    meaning: 'The app is suspended by the operator; its credentials are refused until it is resumed.',
  },
  'UnauthorizedOperation': {
    status: 403,
    meaning: 'The app is not granted the scope of this API, or the route is for the operator (admin key) only.',
  },
  'LimitExceeded.DailyQuota': {
    status: 429,
    meaning: 'The app has used its daily quota of calls to this API (UTC day).',
  },
  'LimitExceeded.MonthlyQuota': {
    status: 429,
    meaning: 'The app has used its monthly quota of calls to this API (UTC month).',
  },
  'LimitExceeded.AccessKeyCount': {
    status: 409,
    meaning: 'An app holds at most two key pairs; delete one before creating another.',
  },
  'ResourceNotFound.App': {
    status: 404,
    meaning: 'No app with this id.',
  },
  'ResourceNotFound.AccessKey': {
    status: 404,
    meaning: 'No key pair with this SecretId in this app.',
  },
  'InvalidAction': {
    status: 400,
    meaning: 'The Tencent-style endpoint got an X-TC-Action it does not serve.',
  },
  'ServiceUnavailable': {
    status: 503,
    meaning: 'The server is shutting down or not ready; retry on another instance or later.',
  },
  // Super-resolution and jobs (issue 6).
  'FailedOperation.UpscaleOutputTooLarge': {
    status: 400,
    meaning: 'The upscaled result (input width x height x scale squared) would have more pixels than the operator allows.',
    setting: 'IMGSENSE_UPSCALE_MAX_OUTPUT_PIXELS',
  },
  'ResourceNotFound.Job': {
    status: 404,
    meaning: 'No job with this id belongs to the calling app (it never existed, belongs to another app, or expired and was deleted).',
  },
  'ResourceUnavailable.JobNotReady': {
    status: 409,
    meaning: 'The job has no result: it is still queued or running, or it failed or was cancelled; the message names its state.',
  },
  'ResourceUnavailable.JobExpired': {
    status: 410,
    meaning: 'The job finished longer ago than the operator keeps results; its result is deleted.',
    setting: 'IMGSENSE_JOB_RESULT_TTL_SECONDS',
  },
  'RequestLimitExceeded.Jobs': {
    status: 429,
    meaning: 'Too many jobs are queued or running; retry after the Retry-After interval.',
    setting: 'IMGSENSE_JOB_MAX_QUEUED',
  },
  'InternalError': {
    status: 500,
    meaning: 'An unexpected fault on the server. The request id identifies the log lines that explain it.',
  },
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof catalogue;

export function isErrorCode(code: string): code is ErrorCode {
  return Object.hasOwn(catalogue, code);
}
