package metrics

import (
	"github.com/prometheus/client_golang/prometheus"

	"taxiihub/internal/buildinfo"
)

// RegisterBuildInfo registers taxiihub_build_info, a gauge of 1 whose labels say which build
// serves: dashboards join it to other series to see which nodes run which revision during a
// rollout.
func RegisterBuildInfo(reg prometheus.Registerer, info buildinfo.Info) {
	g := prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "taxiihub_build_info",
		Help: "Always 1; the labels name the build serving: module version, version-control revision (and whether the tree was modified), Go version.",
		ConstLabels: prometheus.Labels{
			"version":   info.Version,
			"revision":  info.Revision,
			"modified":  boolLabel(info.Modified),
			"goversion": info.GoVersion,
		},
	})
	g.Set(1)
	reg.MustRegister(g)
}

func boolLabel(b bool) string {
	if b {
		return "true"
	}
	return "false"
}
