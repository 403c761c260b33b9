package node

import (
	"errors"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tessera-da/tessera/node/rpc"
)

// metrics are the node's Prometheus series, on a registry of its own.
type metrics struct {
	reg         *prometheus.Registry
	blocks      prometheus.Counter
	blobs       prometheus.Counter
	blobBytes   prometheus.Counter
	squareWidth prometheus.Gauge
	height      prometheus.Gauge
	buildTime   prometheus.Histogram
	queueDepth  prometheus.GaugeFunc
	queueBytes  prometheus.GaugeFunc
	storeBytes  prometheus.GaugeFunc
	rpcLatency  *prometheus.HistogramVec
	rpcErrors   *prometheus.CounterVec
}

func newMetrics(queueDepth, queueBytes, storeBytes func() float64) *metrics {
	m := &metrics{
		reg:         prometheus.NewRegistry(),
		blocks:      prometheus.NewCounter(prometheus.CounterOpts{Name: "tessera_blocks_produced_total", Help: "Blocks this node produced."}),
		blobs:       prometheus.NewCounter(prometheus.CounterOpts{Name: "tessera_blobs_included_total", Help: "Blobs included in produced blocks."}),
		blobBytes:   prometheus.NewCounter(prometheus.CounterOpts{Name: "tessera_blob_bytes_included_total", Help: "Bytes of blob data included in produced blocks."}),
		squareWidth: prometheus.NewGauge(prometheus.GaugeOpts{Name: "tessera_square_width", Help: "Original square width k of the newest block."}),
		height:      prometheus.NewGauge(prometheus.GaugeOpts{Name: "tessera_head_height", Help: "Height of the newest stored header."}),
		buildTime:   prometheus.NewHistogram(prometheus.HistogramOpts{Name: "tessera_block_build_seconds", Help: "Time to lay out, extend, commit to, sign and store a block.", Buckets: prometheus.ExponentialBuckets(0.001, 2, 14)}),
		queueDepth:  prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "tessera_submission_queue_depth", Help: "Submissions waiting for a block."}, queueDepth),
		queueBytes:  prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "tessera_submission_queue_bytes", Help: "Bytes of blob data waiting for a block."}, queueBytes),
		storeBytes:  prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "tessera_store_bytes", Help: "Bytes the store occupies on disk."}, storeBytes),
		rpcLatency:  prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "tessera_rpc_duration_seconds", Help: "JSON-RPC method latency.", Buckets: prometheus.ExponentialBuckets(0.0001, 4, 10)}, []string{"method"}),
		rpcErrors:   prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tessera_rpc_errors_total", Help: "JSON-RPC calls that returned an error."}, []string{"method", "code"}),
	}
	m.reg.MustRegister(m.blocks, m.blobs, m.blobBytes, m.squareWidth, m.height, m.buildTime, m.queueDepth, m.queueBytes, m.storeBytes, m.rpcLatency, m.rpcErrors,
		prometheus.NewGoCollector(), prometheus.NewProcessCollector(prometheus.ProcessCollectorOpts{}))
	return m
}

// observeRPC records one RPC call.
func (m *metrics) observeRPC(method string, d time.Duration, err error) {
	m.rpcLatency.WithLabelValues(method).Observe(d.Seconds())
	if err != nil {
		code := "1"
		var re *rpc.Error
		if errors.As(err, &re) {
			code = strconv.Itoa(re.Code)
		}
		m.rpcErrors.WithLabelValues(method, code).Inc()
	}
}
