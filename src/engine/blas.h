/* blas.h: the few dense kernels the engine needs besides the routed weight
 * GEMMs of backend.h (attention's activation × activation products). They
 * always run on the CPU; backend_cpu.c implements them with OpenBLAS. */
#ifndef LC_BLAS_H
#define LC_BLAS_H

/* C[M,N] = alpha · op(A)[M,K] · op(B)[K,N] + beta · C, row-major. */
void blas_sgemm(int trans_a, int trans_b, int M, int N, int K, float alpha,
                const float *A, int lda, const float *B, int ldb, float beta,
                float *C, int ldc);

/* y[M] = alpha · op(A)[M,N] · x + beta · y, A row-major [rows, cols] with
 * leading dimension lda (op = Aᵀ when trans). No packing: for single rows. */
void blas_sgemv(int trans, int rows, int cols, float alpha, const float *A, int lda,
                const float *x, float beta, float *y);

/* Sets the compute threads: creates the process's one compute pool with n
 * threads (first call wins) and keeps OpenBLAS single-threaded inside it,
 * so the two never compete for cores (0 = one per core). */
void blas_set_threads(int n);

/* The compute pool (NULL before blas_set_threads). */
struct lc_pool *blas_pool(void);

#endif
