package manager

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	authnv1 "k8s.io/api/authentication/v1"
	authzv1 "k8s.io/api/authorization/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// reviewer plays the API server's TokenReview and SubjectAccessReview: tokens "ok-*" are
// users who may get /metrics, "no-*" users who may not, anything else is not a token. Each
// review takes delay, and the reviewer counts the reviews and the most at once.
type reviewer struct {
	delay             time.Duration
	reviews, inFlight atomic.Int32
	mu                sync.Mutex
	most              int32
}

func (r *reviewer) Create(ctx context.Context, tr *authnv1.TokenReview, _ metav1.CreateOptions) (*authnv1.TokenReview, error) {
	r.reviews.Add(1)
	n := r.inFlight.Add(1)
	defer r.inFlight.Add(-1)
	r.mu.Lock()
	r.most = max(r.most, n)
	r.mu.Unlock()
	select {
	case <-time.After(r.delay):
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	out := tr.DeepCopy()
	token := tr.Spec.Token
	if len(token) > 3 && (token[:3] == "ok-" || token[:3] == "no-") {
		out.Status = authnv1.TokenReviewStatus{Authenticated: true, User: authnv1.UserInfo{Username: token}}
	}
	return out, nil
}

type access struct{}

func (access) Create(_ context.Context, sar *authzv1.SubjectAccessReview, _ metav1.CreateOptions) (*authzv1.SubjectAccessReview, error) {
	out := sar.DeepCopy()
	out.Status.Allowed = sar.Spec.User[:3] == "ok-" && sar.Spec.NonResourceAttributes.Path == "/metrics"
	return out, nil
}

func TestVerdictsAreRememberedApart(t *testing.T) {
	g := NewWithT(t)
	r := &reviewer{}
	v := newScrapeVerdicts(r, access{})
	now := time.Unix(1000, 0)
	v.now = func() time.Time { return now }
	ctx := context.Background()

	status, _, err := v.decide(ctx, "ok-prometheus", "get", "/metrics")
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(status).To(Equal(http.StatusOK))
	status, _, _ = v.decide(ctx, "no-someone", "get", "/metrics")
	g.Expect(status).To(Equal(http.StatusForbidden))
	status, _, _ = v.decide(ctx, "garbage", "get", "/metrics")
	g.Expect(status).To(Equal(http.StatusUnauthorized))
	g.Expect(r.reviews.Load()).To(Equal(int32(3)))

	// Remembered: no review until each verdict expires, a denial sooner than an allow.
	for range 5 {
		v.decide(ctx, "ok-prometheus", "get", "/metrics")
		v.decide(ctx, "no-someone", "get", "/metrics")
	}
	g.Expect(r.reviews.Load()).To(Equal(int32(3)))
	now = now.Add(denyTTL)
	v.decide(ctx, "ok-prometheus", "get", "/metrics")
	v.decide(ctx, "no-someone", "get", "/metrics")
	g.Expect(r.reviews.Load()).To(Equal(int32(4)), "the denial expired, the allow did not")
	now = now.Add(allowTTL)
	v.decide(ctx, "ok-prometheus", "get", "/metrics")
	g.Expect(r.reviews.Load()).To(Equal(int32(5)), "the allow expired in its turn")

	// A flood of bad tokens fills the denials and cannot evict the allow.
	for i := range 10 * maxCachedDenials {
		v.decide(ctx, fmt.Sprintf("no-%d", i), "get", "/metrics")
	}
	g.Expect(v.denied.len()).To(Equal(maxCachedDenials), "bounded")
	before := r.reviews.Load()
	status, _, _ = v.decide(ctx, "ok-prometheus", "get", "/metrics")
	g.Expect(status).To(Equal(http.StatusOK))
	g.Expect(r.reviews.Load()).To(Equal(before), "the allow survived the flood")

	// Allows are bounded too: the one closest to expiry goes first.
	for i := range maxCachedAllows + 10 {
		now = now.Add(time.Millisecond)
		v.decide(ctx, fmt.Sprintf("ok-%d", i), "get", "/metrics")
	}
	g.Expect(v.allowed.len()).To(Equal(maxCachedAllows))
	before = r.reviews.Load()
	v.decide(ctx, fmt.Sprintf("ok-%d", maxCachedAllows+9), "get", "/metrics")
	g.Expect(r.reviews.Load()).To(Equal(before), "the newest allow is kept")
	v.decide(ctx, "ok-0", "get", "/metrics")
	g.Expect(r.reviews.Load()).To(Equal(before+1), "the oldest was evicted")
}

// TestAFloodIsReviewedOnceAndCapped: many scrapes with one token cost one review; many tokens
// at once never have more than maxReviewsInFlight reviews under way, and the scrapes over
// the cap are told to come back rather than queued.
func TestAFloodIsReviewedOnceAndCapped(t *testing.T) {
	g := NewWithT(t)
	r := &reviewer{delay: 50 * time.Millisecond}
	v := newScrapeVerdicts(r, access{})
	ctx := context.Background()

	var wg sync.WaitGroup
	var ok atomic.Int32
	for range 100 {
		wg.Go(func() {
			if status, _, err := v.decide(ctx, "ok-prometheus", "get", "/metrics"); err == nil && status == http.StatusOK {
				ok.Add(1)
			}
		})
	}
	wg.Wait()
	g.Expect(ok.Load()).To(Equal(int32(100)))
	g.Expect(r.reviews.Load()).To(Equal(int32(1)), "one review for one token")

	var busy, denied atomic.Int32
	for i := range 200 {
		wg.Go(func() {
			status, _, err := v.decide(ctx, fmt.Sprintf("no-%d", i), "get", "/metrics")
			switch {
			case err == errBusy:
				busy.Add(1)
			case err == nil && status == http.StatusForbidden:
				denied.Add(1)
			}
		})
	}
	wg.Wait()
	g.Expect(r.most).To(BeNumerically("<=", maxReviewsInFlight))
	g.Expect(busy.Load()).To(BeNumerically(">", 0), "the scrapes over the cap are turned away")
	g.Expect(busy.Load() + denied.Load()).To(Equal(int32(200)))
	status, _, err := v.decide(ctx, "ok-prometheus", "get", "/metrics")
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(status).To(Equal(http.StatusOK), "the scraper still gets in during and after the flood")

	// A scrape that gives up does not fail the review it shares.
	r.delay = 100 * time.Millisecond
	short, cancel := context.WithTimeout(ctx, 10*time.Millisecond)
	defer cancel()
	done := make(chan int)
	go func() {
		status, _, _ := v.decide(ctx, "ok-grafana", "get", "/metrics")
		done <- status
	}()
	_, _, err = v.decide(short, "ok-grafana", "get", "/metrics")
	g.Expect(err).To(MatchError(context.DeadlineExceeded))
	g.Eventually(done).Should(Receive(Equal(http.StatusOK)))
}
