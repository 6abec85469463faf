/* blas.h: the few dense kernels the engine needs besides the routed weight
 * GEMMs of backend.h (attention's activation × activation products). They
 * always run on the CPU; backend_cpu.c implements them with OpenBLAS. */
#ifndef LC_BLAS_H
#define LC_BLAS_H

/* C[M,N] = alpha · op(A)[M,K] · op(B)[K,N] + beta · C, row-major. */
void blas_sgemm(int trans_a, int trans_b, int M, int N, int K, float alpha,
                const float *A, int lda, const float *B, int ldb, float beta,
                float *C, int ldc);

/* Threads OpenBLAS may use (0 = leave as is). */
void blas_set_threads(int n);

#endif
