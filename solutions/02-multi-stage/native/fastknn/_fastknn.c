/* k nearest neighbours over a float32 table, in C: the part of the service that needs a compiler.
 *
 * nearest(table, dim, query, k) -> list of (index, squared distance), closest first.
 * `table` is any buffer of float32 values (bytes, memoryview, mmap), row after row. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

static PyObject *nearest(PyObject *self, PyObject *args) {
    Py_buffer table;
    Py_ssize_t dim, k;
    PyObject *query;
    if (!PyArg_ParseTuple(args, "y*nOn", &table, &dim, &query, &k)) return NULL;
    PyObject *values = PySequence_Fast(query, "query must be a sequence of numbers");
    if (values == NULL || dim <= 0 || k <= 0 || PySequence_Fast_GET_SIZE(values) != dim ||
        table.len % (Py_ssize_t)(dim * sizeof(float)) != 0) {
        Py_XDECREF(values);
        PyBuffer_Release(&table);
        if (!PyErr_Occurred()) PyErr_SetString(PyExc_ValueError, "query length, dim, k and table size disagree");
        return NULL;
    }
    float q[64];
    if (dim > 64) { Py_DECREF(values); PyBuffer_Release(&table); PyErr_SetString(PyExc_ValueError, "dim > 64"); return NULL; }
    for (Py_ssize_t j = 0; j < dim; j++) q[j] = (float)PyFloat_AsDouble(PySequence_Fast_GET_ITEM(values, j));
    Py_DECREF(values);
    if (PyErr_Occurred()) { PyBuffer_Release(&table); return NULL; }

    const float *rows = (const float *)table.buf;
    Py_ssize_t n = table.len / (Py_ssize_t)(dim * sizeof(float));
    if (k > n) k = n;
    Py_ssize_t *best = PyMem_Malloc(sizeof(Py_ssize_t) * (size_t)k);
    float *dist = PyMem_Malloc(sizeof(float) * (size_t)k);
    if (best == NULL || dist == NULL) { PyMem_Free(best); PyMem_Free(dist); PyBuffer_Release(&table); return PyErr_NoMemory(); }
    Py_ssize_t found = 0;
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t i = 0; i < n; i++) {
        float d = 0.0f;
        for (Py_ssize_t j = 0; j < dim; j++) { float diff = rows[i * dim + j] - q[j]; d += diff * diff; }
        if (found < k || d < dist[found - 1]) {  /* insert into the sorted short list */
            Py_ssize_t at = found < k ? found++ : k - 1;
            while (at > 0 && dist[at - 1] > d) { dist[at] = dist[at - 1]; best[at] = best[at - 1]; at--; }
            dist[at] = d; best[at] = i;
        }
    }
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&table);
    PyObject *result = PyList_New(found);
    for (Py_ssize_t i = 0; result != NULL && i < found; i++)
        PyList_SET_ITEM(result, i, Py_BuildValue("(nd)", best[i], (double)dist[i]));
    PyMem_Free(best);
    PyMem_Free(dist);
    return result;
}

static PyMethodDef methods[] = {
    {"nearest", nearest, METH_VARARGS, "nearest(table, dim, query, k) -> [(index, squared distance)]"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_fastknn", "k nearest neighbours in C", -1, methods};

PyMODINIT_FUNC PyInit__fastknn(void) { return PyModule_Create(&module); }
