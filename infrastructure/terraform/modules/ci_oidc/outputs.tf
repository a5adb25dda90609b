output "oidc_provider_arn" {
  description = "ARN of the IAM OIDC provider for the GitLab issuer (created here or looked up)."
  value       = local.provider_arn
}

output "plan_role_arn" {
  description = "ARN of <name>-ci-plan, the read-only role of terraform plan (CI variable AWS_PLAN_ROLE_ARN_<ENV>)."
  value       = aws_iam_role.plan.arn
}

output "push_role_arn" {
  description = "ARN of <name>-ci-push, the ECR push/promotion role of the deploy branch (CI variable AWS_ROLE_ARN_<ENV>)."
  value       = aws_iam_role.push.arn
}

output "trusted_subjects" {
  description = "The sub claims each role accepts, by role (plan: patterns, push: one branch)."
  value = {
    plan = local.plan_subjects
    push = [local.push_subject]
  }
}
