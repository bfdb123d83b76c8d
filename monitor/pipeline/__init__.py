"""The pipeline: the glue between the probes, the store and the pure layers below it.

- `writer`: the pipeline thread that stores results (`ResultWriter`) and feeds the sinks, with
  the `spool` file that keeps results while the database fails;
- `detection`: runs the pure detector (`monitor.detect`) over stored results and stores its
  transitions, incidents and statuses (`DetectionService`);
- `statuspages`: polls the providers' own status pages and stores them (`poll_statuspages`);
- `services`: wires detection, alerts and the periodic work behind the probes (`build_services`);
- `leader`: runs those services in the one monitor that holds the lease (`Leadership`).

The layers below (`monitor.detect`, `monitor.statuspages`, `monitor.store`) never import this
package; the commands and the runner do.
"""
