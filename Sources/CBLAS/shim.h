#ifndef SIMPOOL_CBLAS_SHIM_H
#define SIMPOOL_CBLAS_SHIM_H

#ifdef __APPLE__
#include <Accelerate/Accelerate.h>
#else
#include <cblas.h>

/* LAPACK from OpenBLAS (Fortran calling convention); declared here because Debian's
   libopenblas-dev ships no lapack.h of its own. */
void sgesv_(const int *n, const int *nrhs, float *a, const int *lda, int *ipiv,
            float *b, const int *ldb, int *info);
void dgesv_(const int *n, const int *nrhs, double *a, const int *lda, int *ipiv,
            double *b, const int *ldb, int *info);
void sposv_(const char *uplo, const int *n, const int *nrhs, float *a, const int *lda,
            float *b, const int *ldb, int *info);
void spotrf_(const char *uplo, const int *n, float *a, const int *lda, int *info);
void dposv_(const char *uplo, const int *n, const int *nrhs, double *a, const int *lda,
            double *b, const int *ldb, int *info);
#endif

#endif
