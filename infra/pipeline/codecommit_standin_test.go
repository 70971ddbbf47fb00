package pipeline

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// codeCommit stands in for the CodeCommit API, for exactly the calls review.sh makes, because
// no emulator here has pull requests (moto implements repositories only). It speaks the API's
// JSON protocol (POST /, X-Amz-Target: CodeCommit_20150413.<Operation>) as the real aws CLI
// sends it, holds one pull request with its comments and approvals, answers with the API's
// errors where the script could get them wrong (a stale revision, a comment too long, a comment
// that does not exist), and records every request.
type codeCommit struct {
	mu       sync.Mutex
	repo     string
	pr       pullRequest
	comments []map[string]any
	approved map[string]string // revision id -> APPROVE or REVOKE, as last set
	calls    []call
	srv      *httptest.Server
	migrator string // the review's migrator, when a test stands one in ("" the real one)
}

// pullRequest is the stand-in's one pull request.
type pullRequest struct {
	ID, Revision, Status      string
	Source, Destination       string // commits
	SourceRef, DestinationRef string
	revisions                 int
	title                     string
}

// call is one request the stand-in received: the operation and its JSON body.
type call struct {
	Op   string
	Body map[string]any
}

func newCodeCommit(t *testing.T, repo string, pr pullRequest) *codeCommit {
	c := &codeCommit{repo: repo, pr: pr, approved: map[string]string{}}
	c.pr.revisions = 1
	c.pr.Revision = "rev-1"
	c.pr.Status = "OPEN"
	c.srv = httptest.NewServer(http.HandlerFunc(c.serve))
	t.Cleanup(c.srv.Close)
	return c
}

// push moves the pull request's source to commit, as a push to its branch does: a new revision.
func (c *codeCommit) push(commit string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.pr.Source = commit
	c.pr.revisions++
	c.pr.Revision = fmt.Sprintf("rev-%d", c.pr.revisions)
}

func (c *codeCommit) ops() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for _, k := range c.calls {
		out = append(out, k.Op)
	}
	return out
}

func (c *codeCommit) lastCall(op string) map[string]any {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i := len(c.calls) - 1; i >= 0; i-- {
		if c.calls[i].Op == op {
			return c.calls[i].Body
		}
	}
	return nil
}

func (c *codeCommit) serve(w http.ResponseWriter, r *http.Request) {
	c.mu.Lock()
	defer c.mu.Unlock()
	op, ok := strings.CutPrefix(r.Header.Get("X-Amz-Target"), "CodeCommit_20150413.")
	var body map[string]any
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil || r.Method != http.MethodPost || !ok {
		apiError(w, "SerializationException", fmt.Sprintf("not a CodeCommit JSON request: %s %s %q", r.Method, r.Header.Get("X-Amz-Target"), err))
		return
	}
	c.calls = append(c.calls, call{Op: op, Body: body})
	str := func(k string) string { s, _ := body[k].(string); return s }
	if id := str("pullRequestId"); id != "" && id != c.pr.ID {
		apiError(w, "PullRequestDoesNotExistException", "no pull request "+id)
		return
	}
	if repo := str("repositoryName"); repo != "" && repo != c.repo {
		apiError(w, "RepositoryDoesNotExistException", repo+" does not exist")
		return
	}
	switch op {
	case "GetPullRequest":
		reply(w, map[string]any{"pullRequest": map[string]any{
			"pullRequestId": c.pr.ID, "title": c.pr.title, "pullRequestStatus": c.pr.Status, "revisionId": c.pr.Revision,
			"pullRequestTargets": []any{map[string]any{
				"repositoryName": c.repo, "sourceReference": c.pr.SourceRef, "destinationReference": c.pr.DestinationRef,
				"sourceCommit": c.pr.Source, "destinationCommit": c.pr.Destination, "mergeMetadata": map[string]any{"isMerged": false},
			}},
		}})
	case "GetCommentsForPullRequest":
		var data []any
		if len(c.comments) > 0 {
			data = append(data, map[string]any{"pullRequestId": c.pr.ID, "repositoryName": c.repo,
				"beforeCommitId": c.pr.Destination, "afterCommitId": c.pr.Source, "comments": c.comments})
		}
		reply(w, map[string]any{"commentsForPullRequestData": data})
	case "PostCommentForPullRequest":
		if str("beforeCommitId") == "" || str("afterCommitId") == "" {
			apiError(w, "CommitIdRequiredException", "beforeCommitId and afterCommitId are required")
			return
		}
		if len(str("content")) > 10240 {
			apiError(w, "CommentContentSizeLimitExceededException", "a comment holds at most 10240 characters")
			return
		}
		cm := map[string]any{"commentId": fmt.Sprintf("comment-%d", len(c.comments)+1), "content": str("content"), "deleted": false,
			"authorArn": "arn:aws:sts::111111111111:assumed-role/review/build"}
		c.comments = append(c.comments, cm)
		reply(w, map[string]any{"comment": cm, "repositoryName": c.repo, "pullRequestId": c.pr.ID})
	case "UpdateComment":
		for _, cm := range c.comments {
			if cm["commentId"] == str("commentId") {
				if len(str("content")) > 10240 {
					apiError(w, "CommentContentSizeLimitExceededException", "a comment holds at most 10240 characters")
					return
				}
				cm["content"] = str("content")
				reply(w, map[string]any{"comment": cm})
				return
			}
		}
		apiError(w, "CommentDoesNotExistException", "no comment "+str("commentId"))
	case "UpdatePullRequestApprovalState":
		if str("revisionId") != c.pr.Revision {
			apiError(w, "RevisionNotCurrentException", "revision "+str("revisionId")+" is not the pull request's current one")
			return
		}
		if s := str("approvalState"); s != "APPROVE" && s != "REVOKE" {
			apiError(w, "InvalidApprovalStateException", "approvalState "+s)
			return
		}
		c.approved[str("revisionId")] = str("approvalState")
		reply(w, map[string]any{})
	default:
		apiError(w, "UnknownOperationException", "the stand-in does not implement "+op+": review.sh called something new")
	}
}

func reply(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	_ = json.NewEncoder(w).Encode(v)
}

func apiError(w http.ResponseWriter, typ, msg string) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.WriteHeader(http.StatusBadRequest)
	_ = json.NewEncoder(w).Encode(map[string]string{"__type": typ, "message": msg})
}
