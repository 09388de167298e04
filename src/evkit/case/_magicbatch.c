/* libmagic over a list of buffers in one call, without the GIL.
 *
 * libmagic spends about a third of a millisecond on every buffer whatever its size (it walks its
 * whole rule list), so extraction types files on a thread beside the copying. Called from Python
 * once per buffer, that thread must take the GIL back after every call, and the two threads hand
 * it to each other tens of times per file. Here the GIL is released once per list.
 *
 * The result is the one python-magic's Magic().from_buffer() gives: same flags (MAGIC_NONE),
 * same MAGIC_PARAM_NAME_MAX (64), the description decoded as UTF-8 with backslashreplace; None
 * where libmagic reports an error. A Typer object holds one libmagic handle, which must not be
 * used by two threads at once: the object refuses a second concurrent call.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <magic.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    PyObject_HEAD
    magic_t cookie;
    int busy;
} TyperObject;

static void Typer_dealloc(TyperObject *self) {
    if (self->cookie != NULL)
        magic_close(self->cookie);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static int Typer_init(TyperObject *self, PyObject *args, PyObject *kwds) {
    static char *kwlist[] = {NULL};
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "", kwlist))
        return -1;
    if (self->cookie != NULL)
        return 0;
    self->cookie = magic_open(MAGIC_NONE);
    if (self->cookie == NULL) {
        PyErr_SetString(PyExc_OSError, "libmagic: magic_open failed");
        return -1;
    }
    if (magic_load(self->cookie, NULL) != 0) {
        PyErr_Format(PyExc_OSError, "libmagic: cannot load its database: %s", magic_error(self->cookie));
        magic_close(self->cookie);
        self->cookie = NULL;
        return -1;
    }
    size_t name_max = 64;
    magic_setparam(self->cookie, MAGIC_PARAM_NAME_MAX, &name_max); /* as python-magic; older libmagic may refuse */
    return 0;
}

static PyObject *Typer_describe(TyperObject *self, PyObject *arg) {
    if (self->cookie == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "Typer not initialised");
        return NULL;
    }
    if (self->busy) {
        PyErr_SetString(PyExc_RuntimeError, "Typer used by two threads at once");
        return NULL;
    }
    PyObject *seq = PySequence_Fast(arg, "describe() takes a list of bytes");
    if (seq == NULL)
        return NULL;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
    PyObject **items = PySequence_Fast_ITEMS(seq);
    for (Py_ssize_t i = 0; i < n; i++) {
        if (!PyBytes_Check(items[i])) {
            Py_DECREF(seq);
            PyErr_SetString(PyExc_TypeError, "describe() takes a list of bytes");
            return NULL;
        }
    }
    char **found = calloc(n ? (size_t)n : 1, sizeof(char *));
    if (found == NULL) {
        Py_DECREF(seq);
        return PyErr_NoMemory();
    }
    self->busy = 1;
    int oom = 0;
    /* The bytes objects stay alive (the list holds them) and are immutable while the GIL is out. */
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t i = 0; i < n && !oom; i++) {
        const char *r = magic_buffer(self->cookie, PyBytes_AS_STRING(items[i]), (size_t)PyBytes_GET_SIZE(items[i]));
        if (r != NULL && (found[i] = strdup(r)) == NULL)
            oom = 1;
    }
    Py_END_ALLOW_THREADS
    self->busy = 0;
    PyObject *out = oom ? NULL : PyList_New(n);
    for (Py_ssize_t i = 0; i < n; i++) {
        if (out != NULL) {
            PyObject *s = found[i] == NULL ? Py_NewRef(Py_None)
                                           : PyUnicode_DecodeUTF8(found[i], (Py_ssize_t)strlen(found[i]), "backslashreplace");
            if (s == NULL)
                Py_CLEAR(out);
            else
                PyList_SET_ITEM(out, i, s);
        }
        free(found[i]);
    }
    free(found);
    Py_DECREF(seq);
    if (out == NULL && !PyErr_Occurred())
        PyErr_NoMemory();
    return out;
}

static PyMethodDef Typer_methods[] = {
    {"describe", (PyCFunction)Typer_describe, METH_O,
     "libmagic's description of each bytes object of a list (None where libmagic fails)."},
    {NULL, NULL, 0, NULL}};

static PyTypeObject TyperType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "evkit.case._magicbatch.Typer",
    .tp_basicsize = sizeof(TyperObject),
    .tp_dealloc = (destructor)Typer_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "One libmagic handle; describe() types a list of buffers without the GIL.",
    .tp_methods = Typer_methods,
    .tp_init = (initproc)Typer_init,
    .tp_new = PyType_GenericNew,
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_magicbatch",
                                    "libmagic over lists of buffers, without the GIL.", -1, NULL};

PyMODINIT_FUNC PyInit__magicbatch(void) {
    if (PyType_Ready(&TyperType) < 0)
        return NULL;
    PyObject *m = PyModule_Create(&module);
    if (m == NULL)
        return NULL;
    Py_INCREF(&TyperType);
    if (PyModule_AddObject(m, "Typer", (PyObject *)&TyperType) < 0) {
        Py_DECREF(&TyperType);
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
