package main

import (
	"context"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/log"

	"github.com/foureyes/foureyes/api"
)

// stageLogging logs each activity's start and end and adds the release stage
// to every activity log line. With the SDK's WorkflowID and ActivityType and
// the worker logger's role, every line a role writes about a release says
// which release, which stage and which role.
type stageLogging struct {
	interceptor.WorkerInterceptorBase
}

func (stageLogging) InterceptActivity(_ context.Context, next interceptor.ActivityInboundInterceptor) interceptor.ActivityInboundInterceptor {
	return &stageActivity{ActivityInboundInterceptorBase: interceptor.ActivityInboundInterceptorBase{Next: next}}
}

type stageActivity struct {
	interceptor.ActivityInboundInterceptorBase
	stage string
}

func (a *stageActivity) Init(out interceptor.ActivityOutboundInterceptor) error {
	return a.Next.Init(&stageOutbound{ActivityOutboundInterceptorBase: interceptor.ActivityOutboundInterceptorBase{Next: out}, in: a})
}

func (a *stageActivity) ExecuteActivity(ctx context.Context, in *interceptor.ExecuteActivityInput) (any, error) {
	info := activity.GetInfo(ctx)
	a.stage = stageOf(info.ActivityType.Name, in.Args)
	logger := activity.GetLogger(ctx)
	logger.Info("activity started")
	start := time.Now()
	res, err := a.Next.ExecuteActivity(ctx, in)
	took := time.Since(start).Round(time.Millisecond).String()
	if err != nil {
		logger.Warn("activity failed", "took", took, "error", err)
	} else {
		logger.Info("activity finished", "took", took)
	}
	return res, err
}

type stageOutbound struct {
	interceptor.ActivityOutboundInterceptorBase
	in *stageActivity
}

func (o *stageOutbound) GetLogger(ctx context.Context) log.Logger {
	return log.With(o.Next.GetLogger(ctx), "stage", o.in.stage)
}

// stageOf is the release stage an activity works for.
func stageOf(activityType string, args []any) string {
	switch activityType {
	case api.ActivityBuild, api.ActivityDeployed: // the change's start, asked before the build
		return api.StageCode
	case api.ActivityReview:
		return api.StageReview
	case api.ActivityDeploy, api.ActivityVerify, api.ActivityRollback:
		return api.StageDeploy
	case api.ActivityNotify:
		if len(args) == 1 {
			if n, ok := args[0].(api.Notification); ok && n.Gate == "approval" {
				return api.StageApprove
			}
		}
		return api.StageReview
	case api.ActivitySeal:
		return "end"
	}
	return "start" // LoadPolicy
}
