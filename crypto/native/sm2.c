/*
 * SM2 (GB/T 32918) on the OpenSSL that Node itself links, for crypto/sm2.ts.
 *
 * Node's crypto.sign/verify cannot set SM2's distinguishing identifier, and KeyObject.export()
 * on an SM2 key aborts Node 20 (issue 3), so this addon takes raw keys (a 32-byte private scalar,
 * a 65-byte uncompressed point), holds them as OpenSSL EVP_PKEYs behind tagged externals, and
 * exposes only what crypto/sm2.ts needs. Key encodings, raw/DER signature forms and the C1C3C2
 * ciphertext forms are handled in TypeScript; this file does only what needs the curve.
 *
 * Every function validates its arguments and throws a JavaScript error instead of crashing.
 * sign/verify/encrypt/decrypt also come as *Async variants that run on libuv's thread pool.
 */
#include <node_api.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/param_build.h>
#include <stdlib.h>
#include <string.h>

#define CHECK_NAPI(call)                                                        \
  do {                                                                          \
    if ((call) != napi_ok) {                                                    \
      napi_throw_error(env, "BG_NATIVE", "N-API call failed: " #call);          \
      return NULL;                                                              \
    }                                                                           \
  } while (0)

/* Distinguishes our key externals from any other external handed to us. */
static const napi_type_tag PUBLIC_TAG = {0x6261796761746531ULL, 0x736d327075626b31ULL};
static const napi_type_tag PRIVATE_TAG = {0x6261796761746531ULL, 0x736d327072766b31ULL};

typedef struct {
  EVP_PKEY *pkey;
} Key;

static void key_finalize(napi_env env, void *data, void *hint) {
  Key *key = (Key *)data;
  EVP_PKEY_free(key->pkey);
  free(key);
}

static napi_value throw_openssl(napi_env env, const char *what) {
  char message[256];
  unsigned long e = ERR_get_error();
  ERR_clear_error();
  if (e != 0) {
    char reason[160];
    ERR_error_string_n(e, reason, sizeof(reason));
    snprintf(message, sizeof(message), "%s: %s", what, reason);
  } else {
    snprintf(message, sizeof(message), "%s", what);
  }
  napi_throw_error(env, "BG_SM2", message);
  return NULL;
}

/* The SM2 group, made once; EC_GROUP is read-only after creation, so threads may share it. */
static EC_GROUP *sm2_group(void) {
  static EC_GROUP *group = NULL;
  if (group == NULL) group = EC_GROUP_new_by_curve_name(NID_sm2);
  return group;
}

static int get_buffer(napi_env env, napi_value value, const char *name, unsigned char **data,
                      size_t *length) {
  bool is_buffer = false;
  if (napi_is_buffer(env, value, &is_buffer) != napi_ok || !is_buffer) {
    char message[96];
    snprintf(message, sizeof(message), "%s must be a Buffer", name);
    napi_throw_type_error(env, "BG_SM2", message);
    return 0;
  }
  if (napi_get_buffer_info(env, value, (void **)data, length) != napi_ok) {
    napi_throw_error(env, "BG_SM2", "cannot read buffer");
    return 0;
  }
  return 1;
}

static Key *get_key(napi_env env, napi_value value, const napi_type_tag *tag, const char *name) {
  bool matches = false;
  napi_valuetype type;
  if (napi_typeof(env, value, &type) != napi_ok || type != napi_external ||
      napi_check_object_type_tag(env, value, tag, &matches) != napi_ok || !matches) {
    char message[96];
    snprintf(message, sizeof(message), "%s must be an SM2 %s key handle", name,
             tag == &PUBLIC_TAG ? "public" : "private");
    napi_throw_type_error(env, "BG_SM2", message);
    return NULL;
  }
  Key *key = NULL;
  napi_get_value_external(env, value, (void **)&key);
  return key;
}

static napi_value wrap_key(napi_env env, EVP_PKEY *pkey, const napi_type_tag *tag) {
  Key *key = malloc(sizeof(Key));
  napi_value result;
  if (key == NULL) {
    EVP_PKEY_free(pkey);
    napi_throw_error(env, "BG_SM2", "out of memory");
    return NULL;
  }
  key->pkey = pkey;
  if (napi_create_external(env, key, key_finalize, NULL, &result) != napi_ok) {
    key_finalize(env, key, NULL);
    napi_throw_error(env, "BG_SM2", "cannot create key handle");
    return NULL;
  }
  napi_type_tag_object(env, result, tag);
  return result;
}

static EVP_PKEY *pkey_from_params(const unsigned char *point, size_t point_length,
                                  const BIGNUM *d) {
  OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
  OSSL_PARAM *params = NULL;
  EVP_PKEY_CTX *ctx = NULL;
  EVP_PKEY *pkey = NULL;
  if (bld == NULL ||
      !OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, SN_sm2, 0) ||
      !OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point, point_length) ||
      (d != NULL && !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, d)))
    goto done;
  params = OSSL_PARAM_BLD_to_param(bld);
  ctx = EVP_PKEY_CTX_new_from_name(NULL, SN_sm2, NULL);
  if (params == NULL || ctx == NULL || EVP_PKEY_fromdata_init(ctx) <= 0 ||
      EVP_PKEY_fromdata(ctx, &pkey, d != NULL ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY,
                        params) <= 0)
    pkey = NULL;
done:
  EVP_PKEY_CTX_free(ctx);
  OSSL_PARAM_free(params);
  OSSL_PARAM_BLD_free(bld);
  return pkey;
}

/* publicKey(point: Buffer of 65 bytes, 04||x||y) → handle. Refuses points not on the curve. */
static napi_value PublicKey(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  unsigned char *point;
  size_t length;
  CHECK_NAPI(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 1 || !get_buffer(env, argv[0], "point", &point, &length)) return NULL;
  if (length != 65 || point[0] != 0x04) {
    napi_throw_range_error(env, "BG_SM2", "an SM2 public key is 65 bytes, 04 || x || y");
    return NULL;
  }
  EC_POINT *p = EC_POINT_new(sm2_group());
  /* oct2point refuses coordinates ≥ p and points not on the curve; h = 1, so any such point
     other than infinity (which has no 65-byte form) has order n. */
  int on_curve = p != NULL && EC_POINT_oct2point(sm2_group(), p, point, length, NULL) == 1;
  EC_POINT_free(p);
  if (!on_curve) {
    ERR_clear_error();
    napi_throw_range_error(env, "BG_SM2", "the public key is not a point on the SM2 curve");
    return NULL;
  }
  EVP_PKEY *pkey = pkey_from_params(point, length, NULL);
  if (pkey == NULL) return throw_openssl(env, "cannot load the SM2 public key");
  return wrap_key(env, pkey, &PUBLIC_TAG);
}

/* Writes d·G for a 32-byte scalar into out (65 bytes). Returns 0 if d is not in [1, n-2]. */
static int derive_public(const unsigned char *scalar, BIGNUM *d, unsigned char out[65]) {
  const EC_GROUP *group = sm2_group();
  BIGNUM *limit = BN_dup(EC_GROUP_get0_order(group));
  EC_POINT *q = EC_POINT_new(group);
  int ok = 0;
  if (limit == NULL || q == NULL || BN_bin2bn(scalar, 32, d) == NULL) goto done;
  /* SM2 signing uses (1 + d)^-1, so d = n - 1 is not a private key (GB/T 32918.1 §6.1). */
  if (!BN_sub_word(limit, 1) || BN_is_zero(d) || BN_cmp(d, limit) >= 0) goto done;
  if (!EC_POINT_mul(group, q, d, NULL, NULL, NULL)) goto done;
  ok = EC_POINT_point2oct(group, q, POINT_CONVERSION_UNCOMPRESSED, out, 65, NULL) == 65;
done:
  EC_POINT_free(q);
  BN_free(limit);
  return ok;
}

/* privateKey(d: Buffer of 32 bytes) → [handle, public point Buffer(65)]. */
static napi_value PrivateKey(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  unsigned char *scalar;
  size_t length;
  unsigned char point[65];
  CHECK_NAPI(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 1 || !get_buffer(env, argv[0], "scalar", &scalar, &length)) return NULL;
  if (length != 32) {
    napi_throw_range_error(env, "BG_SM2", "an SM2 private key is 32 bytes");
    return NULL;
  }
  BIGNUM *d = BN_secure_new();
  if (d == NULL || !derive_public(scalar, d, point)) {
    BN_clear_free(d);
    ERR_clear_error();
    napi_throw_range_error(env, "BG_SM2", "the private key is not in [1, n-2]");
    return NULL;
  }
  EVP_PKEY *pkey = pkey_from_params(point, sizeof(point), d);
  BN_clear_free(d);
  if (pkey == NULL) return throw_openssl(env, "cannot load the SM2 private key");
  napi_value handle, public_point, pair;
  handle = wrap_key(env, pkey, &PRIVATE_TAG);
  if (handle == NULL) return NULL;
  CHECK_NAPI(napi_create_buffer_copy(env, sizeof(point), point, NULL, &public_point));
  CHECK_NAPI(napi_create_array_with_length(env, 2, &pair));
  CHECK_NAPI(napi_set_element(env, pair, 0, handle));
  CHECK_NAPI(napi_set_element(env, pair, 1, public_point));
  return pair;
}

/* ---- the four operations, each a plain function usable from any thread ---- */

typedef enum { OP_SIGN, OP_VERIFY, OP_ENCRYPT, OP_DECRYPT } Operation;

typedef struct {
  Operation op;
  EVP_PKEY *pkey;       /* up-referenced for the duration of the job */
  unsigned char *id;    /* copies, so the job does not depend on JavaScript memory */
  size_t id_length;
  unsigned char *input;
  size_t input_length;
  unsigned char *signature;
  size_t signature_length;
  /* results */
  unsigned char *output;
  size_t output_length;
  int verified;
  int failed;           /* 1: the operation could not be done (a fault, not a bad input) */
  char error[200];
  napi_async_work work;
  napi_deferred deferred;
} Job;

static void job_error(Job *job, const char *what) {
  unsigned long e = ERR_get_error();
  ERR_clear_error();
  job->failed = 1;
  if (e != 0) {
    char reason[120];
    ERR_error_string_n(e, reason, sizeof(reason));
    snprintf(job->error, sizeof(job->error), "%s: %s", what, reason);
  } else {
    snprintf(job->error, sizeof(job->error), "%s", what);
  }
}

static void digest_sign_verify(Job *job) {
  EVP_MD_CTX *md = EVP_MD_CTX_new();
  EVP_PKEY_CTX *pctx = NULL;
  /* The identifier must be set after init and before the first update: OpenSSL 3.0 refuses it
     among the init parameters, and computes Z = SM3(ENTL || ID || a || b || G || P) on update. */
  if (md == NULL) {
    job_error(job, "out of memory");
    return;
  }
  if (job->op == OP_SIGN) {
    size_t length = 0;
    if (EVP_DigestSignInit_ex(md, &pctx, "SM3", NULL, NULL, job->pkey, NULL) <= 0 ||
        EVP_PKEY_CTX_set1_id(pctx, job->id, (int)job->id_length) <= 0 ||
        EVP_DigestSign(md, NULL, &length, job->input, job->input_length) <= 0 ||
        (job->output = malloc(length)) == NULL ||
        EVP_DigestSign(md, job->output, &length, job->input, job->input_length) <= 0)
      job_error(job, "SM2 signing failed");
    else
      job->output_length = length;
  } else {
    if (EVP_DigestVerifyInit_ex(md, &pctx, "SM3", NULL, NULL, job->pkey, NULL) <= 0 ||
        EVP_PKEY_CTX_set1_id(pctx, job->id, (int)job->id_length) <= 0) {
      job_error(job, "SM2 verification could not start");
    } else {
      /* 1: valid; 0 or a negative value: not a valid signature (bad encoding, r or s out of
         range, or a mismatch). OpenSSL also refuses non-DER encodings and trailing bytes. */
      job->verified = EVP_DigestVerify(md, job->signature, job->signature_length, job->input,
                                       job->input_length) == 1;
      ERR_clear_error();
    }
  }
  EVP_MD_CTX_free(md);
}

static void pkey_crypt(Job *job) {
  EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, job->pkey, NULL);
  size_t length = 0;
  int encrypt = job->op == OP_ENCRYPT;
  if (ctx == NULL) {
    job_error(job, "out of memory");
    return;
  }
  if (encrypt) {
    if (EVP_PKEY_encrypt_init(ctx) <= 0 ||
        EVP_PKEY_encrypt(ctx, NULL, &length, job->input, job->input_length) <= 0 ||
        (job->output = malloc(length)) == NULL ||
        EVP_PKEY_encrypt(ctx, job->output, &length, job->input, job->input_length) <= 0)
      job_error(job, "SM2 encryption failed");
    else
      job->output_length = length;
  } else {
    /* A ciphertext that does not decrypt (bad encoding, C1 off the curve, C3 mismatch) is an
       answer, not a fault: output stays NULL and the caller gets null. */
    if (EVP_PKEY_decrypt_init(ctx) <= 0 ||
        EVP_PKEY_decrypt(ctx, NULL, &length, job->input, job->input_length) <= 0 ||
        (job->output = malloc(length > 0 ? length : 1)) == NULL ||
        EVP_PKEY_decrypt(ctx, job->output, &length, job->input, job->input_length) <= 0) {
      free(job->output);
      job->output = NULL;
      ERR_clear_error();
    } else {
      job->output_length = length;
    }
  }
  EVP_PKEY_CTX_free(ctx);
}

static void job_run(Job *job) {
  if (job->op == OP_SIGN || job->op == OP_VERIFY)
    digest_sign_verify(job);
  else
    pkey_crypt(job);
}

static void job_free(Job *job) {
  EVP_PKEY_free(job->pkey);
  free(job->id);
  free(job->input);
  free(job->signature);
  if (job->output != NULL) OPENSSL_cleanse(job->output, job->output_length);
  free(job->output);
  free(job);
}

static unsigned char *copy_bytes(const unsigned char *data, size_t length) {
  unsigned char *copy = malloc(length > 0 ? length : 1);
  if (copy != NULL && length > 0) memcpy(copy, data, length);
  return copy;
}

/* Reads (key, [id,] input[, signature]) for the operation into a new Job, or throws. */
static Job *job_from_arguments(napi_env env, napi_callback_info info, Operation op) {
  size_t argc = 4;
  napi_value argv[4];
  size_t expected = op == OP_VERIFY ? 4 : op == OP_SIGN ? 3 : 2;
  const napi_type_tag *tag = op == OP_SIGN || op == OP_DECRYPT ? &PRIVATE_TAG : &PUBLIC_TAG;
  unsigned char *id = NULL, *input = NULL, *signature = NULL;
  size_t id_length = 0, input_length = 0, signature_length = 0;
  size_t at = 1;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return NULL;
  if (argc < expected) {
    napi_throw_type_error(env, "BG_SM2", "missing arguments");
    return NULL;
  }
  Key *key = get_key(env, argv[0], tag, "key");
  if (key == NULL) return NULL;
  if (op == OP_SIGN || op == OP_VERIFY) {
    if (!get_buffer(env, argv[at++], "id", &id, &id_length)) return NULL;
    /* GB/T 32918.2 §5.5: ENTL is two bytes of the identifier's length in bits. */
    if (id_length > 8191) {
      napi_throw_range_error(env, "BG_SM2", "the distinguishing identifier is over 8191 bytes");
      return NULL;
    }
  }
  if (!get_buffer(env, argv[at++], "data", &input, &input_length)) return NULL;
  if (op == OP_VERIFY && !get_buffer(env, argv[at++], "signature", &signature, &signature_length))
    return NULL;
  Job *job = calloc(1, sizeof(Job));
  if (job == NULL) {
    napi_throw_error(env, "BG_SM2", "out of memory");
    return NULL;
  }
  job->op = op;
  job->pkey = key->pkey;
  EVP_PKEY_up_ref(job->pkey);
  job->id = copy_bytes(id, id_length);
  job->id_length = id_length;
  job->input = copy_bytes(input, input_length);
  job->input_length = input_length;
  if (op == OP_VERIFY) {
    job->signature = copy_bytes(signature, signature_length);
    job->signature_length = signature_length;
  }
  if (job->input == NULL || (op != OP_ENCRYPT && op != OP_DECRYPT && job->id == NULL) ||
      (op == OP_VERIFY && job->signature == NULL)) {
    job_free(job);
    napi_throw_error(env, "BG_SM2", "out of memory");
    return NULL;
  }
  return job;
}

/* Turns a finished job into its JavaScript value, or sets *error. */
static napi_value job_result(napi_env env, Job *job, napi_value *error) {
  napi_value result = NULL;
  *error = NULL;
  if (job->failed) {
    napi_value code, message;
    napi_create_string_utf8(env, "BG_SM2", NAPI_AUTO_LENGTH, &code);
    napi_create_string_utf8(env, job->error, NAPI_AUTO_LENGTH, &message);
    napi_create_error(env, code, message, error);
    return NULL;
  }
  if (job->op == OP_VERIFY) {
    napi_get_boolean(env, job->verified, &result);
  } else if (job->output == NULL) {
    napi_get_null(env, &result);
  } else {
    napi_create_buffer_copy(env, job->output_length, job->output, NULL, &result);
  }
  return result;
}

static napi_value run_sync(napi_env env, napi_callback_info info, Operation op) {
  Job *job = job_from_arguments(env, info, op);
  napi_value result, error;
  if (job == NULL) return NULL;
  job_run(job);
  result = job_result(env, job, &error);
  job_free(job);
  if (error != NULL) napi_throw(env, error);
  return result;
}

static void execute_async(napi_env env, void *data) { job_run((Job *)data); }

static void complete_async(napi_env env, napi_status status, void *data) {
  Job *job = (Job *)data;
  napi_value result, error;
  if (status != napi_ok) {
    napi_value code, message;
    napi_create_string_utf8(env, "BG_SM2", NAPI_AUTO_LENGTH, &code);
    napi_create_string_utf8(env, "the SM2 job was cancelled", NAPI_AUTO_LENGTH, &message);
    napi_create_error(env, code, message, &error);
    napi_reject_deferred(env, job->deferred, error);
  } else {
    result = job_result(env, job, &error);
    if (error != NULL)
      napi_reject_deferred(env, job->deferred, error);
    else
      napi_resolve_deferred(env, job->deferred, result);
  }
  napi_delete_async_work(env, job->work);
  job_free(job);
}

static napi_value run_async(napi_env env, napi_callback_info info, Operation op) {
  Job *job = job_from_arguments(env, info, op);
  napi_value promise, name;
  if (job == NULL) return NULL;
  if (napi_create_promise(env, &job->deferred, &promise) != napi_ok ||
      napi_create_string_utf8(env, "baygate:sm2", NAPI_AUTO_LENGTH, &name) != napi_ok ||
      napi_create_async_work(env, NULL, name, execute_async, complete_async, job, &job->work) !=
          napi_ok ||
      napi_queue_async_work(env, job->work) != napi_ok) {
    job_free(job);
    napi_throw_error(env, "BG_SM2", "cannot queue the SM2 job");
    return NULL;
  }
  return promise;
}

static napi_value Sign(napi_env env, napi_callback_info info) { return run_sync(env, info, OP_SIGN); }
static napi_value Verify(napi_env env, napi_callback_info info) { return run_sync(env, info, OP_VERIFY); }
static napi_value Encrypt(napi_env env, napi_callback_info info) { return run_sync(env, info, OP_ENCRYPT); }
static napi_value Decrypt(napi_env env, napi_callback_info info) { return run_sync(env, info, OP_DECRYPT); }
static napi_value SignAsync(napi_env env, napi_callback_info info) { return run_async(env, info, OP_SIGN); }
static napi_value VerifyAsync(napi_env env, napi_callback_info info) { return run_async(env, info, OP_VERIFY); }
static napi_value EncryptAsync(napi_env env, napi_callback_info info) { return run_async(env, info, OP_ENCRYPT); }
static napi_value DecryptAsync(napi_env env, napi_callback_info info) { return run_async(env, info, OP_DECRYPT); }

static napi_value Init(napi_env env, napi_value exports) {
  napi_property_descriptor functions[] = {
      {"publicKey", NULL, PublicKey, NULL, NULL, NULL, napi_enumerable, NULL},
      {"privateKey", NULL, PrivateKey, NULL, NULL, NULL, napi_enumerable, NULL},
      {"sign", NULL, Sign, NULL, NULL, NULL, napi_enumerable, NULL},
      {"verify", NULL, Verify, NULL, NULL, NULL, napi_enumerable, NULL},
      {"encrypt", NULL, Encrypt, NULL, NULL, NULL, napi_enumerable, NULL},
      {"decrypt", NULL, Decrypt, NULL, NULL, NULL, napi_enumerable, NULL},
      {"signAsync", NULL, SignAsync, NULL, NULL, NULL, napi_enumerable, NULL},
      {"verifyAsync", NULL, VerifyAsync, NULL, NULL, NULL, napi_enumerable, NULL},
      {"encryptAsync", NULL, EncryptAsync, NULL, NULL, NULL, napi_enumerable, NULL},
      {"decryptAsync", NULL, DecryptAsync, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  if (sm2_group() == NULL) {
    napi_throw_error(env, "BG_SM2", "this OpenSSL has no SM2 curve");
    return NULL;
  }
  CHECK_NAPI(napi_define_properties(env, exports, sizeof(functions) / sizeof(functions[0]),
                                    functions));
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
