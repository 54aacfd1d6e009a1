"""Borrowed structures for the compiled day loop: numba's data model, extended in one place.

Numba counts a reference whenever a structure or an array is bound to a name: on entering
every function it is passed to (inlined or not), on every read of a field, and again on
the way out; a call each time, tens of thousands per replication, which cost more than
the touches themselves. The day loop therefore works on borrowed views of its
structures: the same memory, typed so that nothing in it is counted, while the owners
keep it alive. Elements of a borrowed array are also addressed without numba's
negative-index fix-up (the loop's indices are never negative).

This leans on numba internals (the array data model, its lowering helpers), which move
between numba versions; ``pyproject.toml`` pins the versions this was tested on. Where
they cannot be imported (another numba), :func:`borrow` hands back the structure itself:
the same loop on ordinary, counted numba arrays, the same numbers, slower, with one
warning. ``OUTREACH_SIM_PLAIN_NUMBA=1`` asks for that plain path; give it a
``NUMBA_CACHE_DIR`` of its own, or numba loads the fast build it cached (its cache index
knows the loop's argument types and numba's version, not how their accesses were lowered).
"""

from __future__ import annotations

import os
import warnings

from numba import njit

#: whether the borrowed types are in use (False: the plain compiled path)
AVAILABLE = False
#: why not, when they are not
REASON = ""

try:
    if os.environ.get("OUTREACH_SIM_PLAIN_NUMBA"):
        raise ImportError("OUTREACH_SIM_PLAIN_NUMBA is set")
    import operator

    from numba.core import cgutils, types
    from numba.core.datamodel import models
    from numba.core.imputils import lower_builtin
    from numba.experimental import structref
    from numba.extending import intrinsic, register_model
    from numba.np.arrayobj import (
        getitem_array_tuple,
        getitem_arraynd_intp,
        load_item,
        make_array,
        setitem_array,
        store_item,
    )
except Exception as error:  # another numba: its internals moved
    REASON = f"{type(error).__name__}: {error}"
else:
    AVAILABLE = True

if AVAILABLE:

    class _Borrowed(types.Array):
        """An array that compiled code never counts references to, and whose elements it
        addresses without numba's negative-index fix-up (below). Views of it are ordinary
        arrays."""

        def __init__(self, array: types.Array):
            self.array = array
            super().__init__(
                array.dtype,
                array.ndim,
                array.layout,
                readonly=not array.mutable,
                name=f"borrowed {array.name}",
                aligned=array.aligned,
            )

        def __repr__(self) -> str:  # a structure's type is named (and told apart) by this
            return f"Borrowed({self.array!r})"

    class _BorrowedArrayModel(models.ArrayModel):
        def traverse(self, builder):
            return []

    register_model(_Borrowed)(_BorrowedArrayModel)

    def _element(context, builder, aryty, ary, index_types, indices):
        """The address of the element at one integer per axis, else None."""
        if len(index_types) != aryty.ndim or not all(
            isinstance(t, types.Integer) for t in index_types
        ):
            return None
        array = make_array(aryty)(context, builder, ary)
        pairs = zip(indices, index_types, strict=True)
        at = [context.cast(builder, i, t, types.intp) for i, t in pairs]
        return cgutils.get_item_pointer(
            context, builder, aryty, array, at, wraparound=False, boundscheck=False
        )

    def _unpacked(builder, index_type, index):
        if isinstance(index_type, types.BaseTuple):
            return index_type.types, cgutils.unpack_tuple(builder, index, count=len(index_type))
        return (index_type,), (index,)

    @lower_builtin(operator.getitem, _Borrowed, types.Integer)
    @lower_builtin(operator.getitem, _Borrowed, types.BaseTuple)
    def _borrowed_getitem(context, builder, sig, args):
        aryty, index_type = sig.args
        ptr = _element(context, builder, aryty, args[0], *_unpacked(builder, index_type, args[1]))
        if ptr is None:  # a view: numba's own indexing
            if isinstance(index_type, types.BaseTuple):
                return getitem_array_tuple(context, builder, sig, args)
            return getitem_arraynd_intp(context, builder, sig, args)
        return load_item(context, builder, aryty, ptr)

    @lower_builtin(operator.setitem, _Borrowed, types.Integer, types.Any)
    @lower_builtin(operator.setitem, _Borrowed, types.BaseTuple, types.Any)
    def _borrowed_setitem(context, builder, sig, args):
        aryty, index_type, value_type = sig.args
        if isinstance(value_type, types.Array):  # an array assigned: numba's broadcasting
            return setitem_array(context, builder, sig, args)
        ptr = _element(context, builder, aryty, args[0], *_unpacked(builder, index_type, args[1]))
        if ptr is None:  # into a view: numba's own assignment
            return setitem_array(context, builder, sig, args)
        value = context.cast(builder, args[2], value_type, aryty.dtype)
        store_item(context, builder, aryty, value, ptr)
        return context.get_dummy_value()

    class _BorrowedRefModel(models.StructRefModel):
        def traverse(self, builder):
            return []

    #: owned structure type -> its borrowed twin
    _BORROWED: dict[type, type] = {}

    def register_borrowed(owned: type, counted: frozenset[str] = frozenset()) -> None:
        """Give the structure type `owned` (a StructRef subclass) a borrowed twin whose
        array fields are not counted, except those named in `counted` (fields that are
        replaced while borrowed, e.g. a pool that grows)."""

        base = owned.__bases__[0]  # a sibling of `owned`, not a subclass: told apart

        def preprocess_fields(self, fields):
            return tuple(
                (name, _Borrowed(t) if isinstance(t, types.Array) and name not in counted else t)
                for name, t in base.preprocess_fields(self, fields)
            )

        twin = type(f"Borrowed{owned.__name__}", (base,), {"preprocess_fields": preprocess_fields})
        structref.register(twin)
        register_model(twin)(_BorrowedRefModel)
        _BORROWED[owned] = twin

    @intrinsic
    def borrow(typingctx, struct):
        """The same structure, borrowed (the caller keeps `struct` alive meanwhile)."""
        borrowed = _BORROWED[type(struct)](struct.field_dict.items())
        return borrowed(struct), lambda context, builder, signature, args: args[0]

else:

    def register_borrowed(owned: type, counted: frozenset[str] = frozenset()) -> None:
        """Nothing to register on the plain path."""

    @njit(inline="always")
    def borrow(struct):
        """The plain path: the structure itself, counted as numba counts it."""
        return struct

    warnings.warn(
        "outreach-sim: the compiled loop's fast array types are unavailable with this "
        f"numba ({REASON}); running the plain compiled loop (same numbers, slower)",
        RuntimeWarning,
        stacklevel=2,
    )
