package watches_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"

	"github.com/openshift-pipelines/pipeline-service-operator/internal/children"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/render"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/testsupport/testenv"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/watches"
)

// slowInformers is a cache whose informers are handed out late, as on a loaded machine where
// the goroutine that starts a watch is scheduled after the reconcile that started it has gone
// on to apply: source.Kind gets its informer, then registers its handler, in a goroutine of
// its own (controller-runtime pkg/internal/source/kind.go, Start).
type slowInformers struct{ cache.Cache }

func (c slowInformers) GetInformer(ctx context.Context, obj client.Object, opts ...cache.InformerGetOption) (cache.Informer, error) {
	time.Sleep(300 * time.Millisecond)
	return c.Cache.GetInformer(ctx, obj, opts...)
}

// TestEnsureReturnsWithTheNewWatchesSynced starts the member's watches from a reconcile, as
// when a CRD arrives, then creates and deletes a child at once, as a person may right after
// the pass that applied it: the events reach the reconcile only if the watch was running when
// Ensure returned.
func TestEnsureReturnsWithTheNewWatchesSynced(t *testing.T) {
	g := NewWithT(t)
	env, cfg, err := testenv.Start(nil)
	g.Expect(err).NotTo(HaveOccurred())
	t.Cleanup(func() { _ = env.Stop() })

	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
		NewCache: func(cfg *rest.Config, opts cache.Options) (cache.Cache, error) {
			c, err := cache.New(cfg, opts)
			return slowInformers{c}, err
		},
	})
	g.Expect(err).NotTo(HaveOccurred())

	var w *watches.Children
	ensured := make(chan error, 1)
	var woken atomic.Int32
	c, err := controller.New("watches-test", mgr, controller.Options{
		SkipNameValidation: ptr.To(true),
		Reconciler: reconcile.Func(func(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
			if req != watches.ClusterRequest {
				ensured <- w.Ensure(ctx, w.Served())
				return reconcile.Result{}, nil
			}
			woken.Add(1)
			return reconcile.Result{}, nil
		}),
	})
	g.Expect(err).NotTo(HaveOccurred())
	kick := make(chan event.GenericEvent, 1)
	g.Expect(c.Watch(source.Channel(kick, &handler.EnqueueRequestForObject{}))).To(Succeed())
	w = watches.New(children.Member, c, mgr.GetCache(), mgr.GetRESTMapper(), &handler.EnqueueRequestForObject{})

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	go func() { _ = mgr.Start(ctx) }()

	kick <- event.GenericEvent{Object: &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "ensure"}}}
	g.Eventually(ensured, time.Minute).Should(Receive(BeNil()))

	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "child", Namespace: "default",
		Labels: map[string]string{render.LabelManagedBy: render.ManagedByValue}}}
	cl, err := client.New(cfg, client.Options{})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(cl.Create(ctx, sa)).To(Succeed())
	g.Expect(cl.Delete(ctx, sa)).To(Succeed())
	g.Eventually(woken.Load, 10*time.Second, 10*time.Millisecond).Should(BeNumerically(">", 0),
		"the child's creation and deletion wake its parent")
}
