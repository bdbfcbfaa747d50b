"""Moving large items between processes without the manager (``io.dump_item``).

* :mod:`.frames` -- serializers and the frame format (out-of-band buffers);
* :mod:`.locator` -- :class:`~.locator.ItemLocator`, :class:`~.locator.TransferError`
  and the helpers every transport shares;
* :mod:`.transports` -- ``file``, ``shm``, ``sqlite``, and :func:`~.transports.put` /
  :func:`~.transports.get` / :func:`~.transports.cleanup` over all five;
* :mod:`.streams` -- ``fifo`` and ``tcp``, streamed once by a producer thread;
* :mod:`.shm` -- shared-memory segments recycled by their producer;
* :mod:`.leases` -- producer-side lifetimes of dumped items.

The node functions that use them are :func:`papy_engine.workers.io.dump_item`
and :func:`~papy_engine.workers.io.load_item`.  Nothing is imported here, so a
worker process loads only the modules its items need.
"""
